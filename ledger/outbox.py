"""Webhook outbox: events written in the same database transaction that decides a transaction.

Placeholder until the webhooks work lands: the posting engine already calls it before each commit.
"""

from sqlalchemy.orm import Session


def record_events(session: Session, decisions: list) -> int:
    """Write one outbox row per (decided transaction, subscriber); return how many were written."""
    return 0
