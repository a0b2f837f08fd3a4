"""What a receiver gets: the event body and its Standard Webhooks signature headers."""

import json
import uuid
from datetime import datetime

from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from ledger.queries import event_transaction_json
from webhooks.models import WebhookMessage, webhook_id


def event_payload(session: Session, message: WebhookMessage) -> dict:
    """The body of an event: the transaction exactly as ``GET /transactions/{id}`` shows it."""
    data = json.loads(event_transaction_json(session, message.transaction_id))
    # The event happened when the transaction was decided: the same instant on every retry.
    return {"type": message.event_type, "timestamp": data["decided_at"], "data": data}


def sign(secret: str, message_id: uuid.UUID, body: str, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers; ``webhook-id`` is the same on every retry."""
    msg_id = webhook_id(message_id)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }
