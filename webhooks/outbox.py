"""Webhook outbox: events written in the same database transaction that decides a transaction.

The posting engine calls ``record_events`` before each batch's commit, so an event exists if and
only if its decision does: no event for a rolled-back batch, none lost for a committed one.
The worker hands this function to the posting engine as its hook; delivery happens later
(``webhooks.delivery``, run by the webhooks worker).
"""

from sqlalchemy.orm import Session

from ledger.db import Prepared
from ledger.decisions import Decision
from ledger.enums import TransactionStatus, TransactionType
from webhooks.models import EventType

EVENT_OF_APPLIED = {
    TransactionType.CAPTURE: EventType.CAPTURED,
    TransactionType.VOID: EventType.VOIDED,
    TransactionType.EXPIRY: EventType.EXPIRED,
    TransactionType.REVERSAL: EventType.REVERSED,
}

# One statement per batch, whatever it holds. The callback side probes the partial index
# transactions_callback (rows with a callback_url only), so a batch without callbacks costs a few
# lookups in a near-empty index; the endpoint side starts from webhook_endpoints, an empty table
# until someone registers one, and an endpoint hears only of its own client's transactions. The
# event of each decision comes with it (``event_of``), so no row is read to name it.
# Prepared once per connection, like the engine's own statements (ledger.db.Prepared).
INSERT_EVENTS = Prepared(
    "webhooks_record_events",
    ("uuid[]", "text[]"),
    """
    INSERT INTO webhook_messages (transaction_id, event_type, endpoint_id, url)
    SELECT t.id, d.event, NULL, t.callback_url
    FROM transactions t
    JOIN unnest($1, $2) AS d(id, event) ON d.id = t.id
    WHERE t.id = ANY($1) AND t.callback_url IS NOT NULL
    UNION ALL
    SELECT d.id, d.event, e.id, e.url
    FROM webhook_endpoints e
    JOIN unnest($1, $2) AS d(id, event) ON d.event = ANY(e.events)
    JOIN transactions t ON t.id = d.id AND t.client_id = e.client_id
    WHERE e.status = 'active'
    """,
)


def record_events(session: Session, decisions: list[Decision]) -> int:
    """Write one outbox row per (decided transaction, subscriber); return how many were written."""
    if not decisions:
        return 0
    ids = "{" + ",".join(d.transaction_id for d in decisions) + "}"
    events = "{" + ",".join(event_of(d) for d in decisions) + "}"
    return INSERT_EVENTS.execute(session, ids, events).rowcount


def event_of(decision: Decision) -> EventType:
    """A decision's event: its status, but for an applied settlement or reversal, what it did."""
    if decision.status == TransactionStatus.APPLIED:
        return EVENT_OF_APPLIED.get(decision.type, EventType.APPLIED)
    return EventType(f"transaction.{decision.status}")
