"""What the webhook routes read and answer, and the URL validators the money routes borrow."""

from flask import g, has_app_context
from marshmallow import ValidationError, fields, validate

import settings
from api.extensions.smorest import Schema
from ledger.webhook_models import EVENT_TYPES
from ledger.webhook_urls import MAX_URL_LENGTH, UnsafeURL, check_url


def safe_webhook_url(url: str) -> None:
    """Refuse a URL the wallet must not POST to (SSRF guard); the address check obeys WEBHOOK_ALLOW_PRIVATE."""
    # A batch may name the same callback a thousand times: resolve it once per request.
    checked = g.setdefault("safe_webhook_urls", set()) if has_app_context() else set()
    if url in checked:
        return
    try:
        check_url(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    except UnsafeURL as exc:
        raise ValidationError(f"Refused: {exc.detail}.") from None
    checked.add(url)


def safe_callback_url(url: str) -> None:
    """A callback_url is signed with the server secret: without one, refuse rather than send unsigned."""
    if not settings.WEBHOOK_SECRET:
        raise ValidationError("This server has no WEBHOOK_SECRET configured, so it cannot sign callbacks.")
    safe_webhook_url(url)


class EndpointCreateSchema(Schema):
    url = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_URL_LENGTH), safe_webhook_url],
        metadata={"description": "http(s) URL whose host resolves to public addresses only"},
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(min=1),
        load_default=None,
        metadata={"description": "Event types to receive; all of them when absent"},
    )
    description = fields.String(validate=validate.Length(max=500), load_default=None)


class EndpointSchema(Schema):
    id = fields.UUID()
    url = fields.String()
    events = fields.List(fields.String(metadata={"enum": list(EVENT_TYPES)}))
    description = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["active", "disabled"], "description": "disabled after a 410 Gone"})
    disabled_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    disabled_at = fields.DateTime(allow_none=True)


class EndpointCreatedSchema(EndpointSchema):
    secret = fields.String(metadata={"description": "whsec_... signing secret: shown in this answer only, never again"})


class EndpointListSchema(Schema):
    webhooks = fields.List(fields.Nested(EndpointSchema))


class DeliveryQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    starting_after = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "Id of the last attempt of the previous page"}
    )


class DeliverySchema(Schema):
    id = fields.Integer()
    attempted_at = fields.DateTime()
    event_type = fields.String(metadata={"enum": list(EVENT_TYPES)})
    transaction_id = fields.UUID()
    webhook_id = fields.String(metadata={"description": "The webhook-id header: the same on every retry"})
    response_status = fields.Integer(allow_none=True, metadata={"description": "HTTP status; null if none came"})
    error = fields.String(allow_none=True, metadata={"description": "Timeout, connection error, refusal..."})
    latency_ms = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True, metadata={"description": "null: nothing more will be tried"})


class DeliveryPageSchema(Schema):
    deliveries = fields.List(fields.Nested(DeliverySchema), metadata={"description": "Newest first"})
    has_more = fields.Boolean()
