"""The accept path (docs/architecture.md): record the requests, then wake their partitions.

``accept_transactions`` runs on an autocommit connection, so it is one round trip and its own
transaction: committed before the wake-up. A 202 is a promise only once the row is durable, and a
worker woken before the commit could look for the row and not find it. A wake-up that cannot be
sent is the sweeper's to resend, never an error for the client (``wake`` never raises).
"""

from flask import current_app

from api.extensions.auth import client_id
from api.extensions.database import db_connection
from api.extensions.wakeups import wakeups
from ledger.accept import Accepted, TransactionRequest, record_transactions
from ledger.enums import TransactionStatus


def accept(requests: list[TransactionRequest]) -> list[Accepted]:
    """Accept the calling client's ``requests`` in one call and one commit; the ledger's errors propagate."""
    accepted = record_transactions(db_connection(), client_id(), requests, current_app.config["PARTITIONS"])
    wakeups().wake({a.partition for a in accepted if a.status == TransactionStatus.QUEUED})
    return accepted
