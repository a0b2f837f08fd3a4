"""Registered webhook endpoints and their delivery log. Callers check URLs (transport.urls) and commit."""

import base64
import secrets
import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ledger.errors import NotFound
from ledger.queries import Page
from webhooks.models import EventType, WebhookAttempt, WebhookEndpoint

# Standard Webhooks secrets are 24 to 64 random bytes, base64, behind a whsec_ prefix.
SECRET_BYTES = 32


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"

    def __init__(self, endpoint_id: uuid.UUID) -> None:
        super().__init__(f"no webhook endpoint with id {endpoint_id}")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def register_endpoint(
    session: Session, client_id: str, url: str, events: list[str] | None = None, description: str | None = None
) -> WebhookEndpoint:
    """Subscribe ``url`` to ``events`` (all of them by default) of the client's transactions, with a
    secret of its own."""
    endpoint = WebhookEndpoint(
        client_id=client_id,
        url=url,
        secret=new_secret(),
        events=sorted(set(events or EventType)),
        description=description,
    )
    session.add(endpoint)
    session.flush()
    session.refresh(endpoint)
    return endpoint


def get_endpoint(session: Session, client_id: str, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """The client's endpoint; another client's is not found, like one that does not exist."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.client_id != client_id:
        raise EndpointNotFound(endpoint_id)
    return endpoint


def list_endpoints(session: Session, client_id: str) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.client_id == client_id)
    return list(session.scalars(query.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)))


def delete_endpoint(session: Session, client_id: str, endpoint_id: uuid.UUID) -> None:
    """Unsubscribe: its pending events and its log go with it (ON DELETE CASCADE)."""
    query = delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.client_id == client_id)
    if session.execute(query).rowcount == 0:
        raise EndpointNotFound(endpoint_id)


def list_deliveries(
    session: Session, client_id: str, endpoint_id: uuid.UUID, *, limit: int = 20, starting_after: int | None = None
) -> Page[WebhookAttempt]:
    """An endpoint's delivery attempts newest first; the cursor is the last attempt id seen."""
    get_endpoint(session, client_id, endpoint_id)
    query = select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint_id)
    if starting_after is not None:
        query = query.where(WebhookAttempt.id < starting_after)
    rows = list(session.scalars(query.order_by(WebhookAttempt.id.desc()).limit(limit + 1)))
    return Page(rows[:limit], has_more=len(rows) > limit)
