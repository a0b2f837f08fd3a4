"""Registered webhook endpoints: POST/GET/DELETE /webhooks, and GET /webhooks/{id}/deliveries."""

import uuid

from flask import jsonify

from api.extensions.auth import client_id
from api.extensions.database import db_session
from api.extensions.smorest import Blueprint
from api.resources.webhooks.schemas import (
    DeliveryPageSchema,
    DeliveryQuerySchema,
    EndpointCreatedSchema,
    EndpointCreateSchema,
    EndpointListSchema,
    EndpointSchema,
)
from ledger.enums import Scope
from ledger.representation import timestamp
from webhooks.endpoints import delete_endpoint, get_endpoint, list_deliveries, list_endpoints, register_endpoint
from webhooks.models import WebhookAttempt, WebhookEndpoint

blp = Blueprint("webhooks", __name__, url_prefix="/webhooks", description="Subscribe to transaction events")

NO_ENDPOINT = "webhook_endpoint_not_found: no endpoint has this id"


@blp.route("", methods=["POST"])
@blp.requires(Scope.WEBHOOKS_MANAGE)
@blp.arguments(EndpointCreateSchema)
@blp.response(201, EndpointCreatedSchema)
@blp.problem(413, "body_too_large: the body is over 64 KiB")
@blp.problem(415, "unsupported_media_type: the body is not application/json")
def register(body: dict):
    """Subscribe a URL to transaction events; the answer holds its signing secret, shown this once."""
    session = db_session()
    endpoint = register_endpoint(session, client_id(), body["url"], body["events"], body["description"])
    session.commit()
    answer = {**endpoint_as_dict(endpoint), "secret": endpoint.secret}
    return jsonify(answer), 201, {"Location": f"/webhooks/{endpoint.id}"}


@blp.route("", methods=["GET"])
@blp.requires(Scope.WEBHOOKS_MANAGE)
@blp.response(200, EndpointListSchema)
def list_all():
    """Every registered endpoint, oldest first, without secrets."""
    return jsonify({"webhooks": [endpoint_as_dict(e) for e in list_endpoints(db_session(), client_id())]})


@blp.route("/<uuid:endpoint_id>", methods=["GET"])
@blp.requires(Scope.WEBHOOKS_MANAGE)
@blp.response(200, EndpointSchema)
@blp.problem(404, NO_ENDPOINT)
def show(endpoint_id: uuid.UUID):
    """One endpoint, without its secret."""
    return jsonify(endpoint_as_dict(get_endpoint(db_session(), client_id(), endpoint_id)))


@blp.route("/<uuid:endpoint_id>", methods=["DELETE"])
@blp.requires(Scope.WEBHOOKS_MANAGE)
@blp.response(204)
@blp.problem(404, NO_ENDPOINT)
def unsubscribe(endpoint_id: uuid.UUID):
    """Stop sending to this endpoint; its pending events and its delivery log are removed."""
    session = db_session()
    delete_endpoint(session, client_id(), endpoint_id)
    session.commit()
    return "", 204


@blp.route("/<uuid:endpoint_id>/deliveries", methods=["GET"])
@blp.requires(Scope.WEBHOOKS_MANAGE)
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, DeliveryPageSchema)
@blp.problem(404, NO_ENDPOINT)
def deliveries(query: dict, endpoint_id: uuid.UUID):
    """Delivery attempts to this endpoint, newest first: when, which event, the answer, and what is next."""
    cursor = query.get("starting_after")
    page = list_deliveries(db_session(), client_id(), endpoint_id, limit=query["limit"], starting_after=cursor)
    return jsonify({"deliveries": [attempt_as_dict(a) for a in page.items], "has_more": page.has_more})


def endpoint_as_dict(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "status": endpoint.status,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": timestamp(endpoint.created_at),
        "disabled_at": timestamp(endpoint.disabled_at),
    }


def attempt_as_dict(attempt: WebhookAttempt) -> dict:
    message = attempt.message
    return {
        "id": attempt.id,
        "attempted_at": timestamp(attempt.attempted_at),
        "event_type": message.event_type,
        "transaction_id": str(message.transaction_id),
        "webhook_id": message.webhook_id,
        "response_status": attempt.response_status,
        "error": attempt.error,
        "latency_ms": attempt.latency_ms,
        "next_attempt_at": timestamp(attempt.next_attempt_at),
    }
