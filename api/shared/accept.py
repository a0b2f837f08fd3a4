"""The accept path (docs/architecture.md): record the requests, commit, then wake their partitions.

The commit comes before the wake-up: a 202 is a promise only once the row is durable, and a
worker woken before the commit could look for the row and not find it. A wake-up that cannot be
sent is the sweeper's to resend, never an error for the client (``wake`` never raises).
"""

from flask import current_app

from api.extensions.database import db_session
from api.extensions.wakeups import wakeups
from ledger.accept import Accepted, TransactionRequest, record_transactions
from ledger.enums import TransactionStatus


def accept(requests: list[TransactionRequest]) -> list[Accepted]:
    """Accept ``requests`` in one statement and one commit; the ledger's errors propagate as they are."""
    session = db_session()
    accepted = record_transactions(session, requests, current_app.config["PARTITIONS"])
    session.commit()
    wakeups().wake({a.transaction.partition for a in accepted if a.transaction.status == TransactionStatus.QUEUED})
    return accepted
