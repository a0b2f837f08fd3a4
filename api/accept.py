"""The accept path (DESIGN.md section 3): record the requests, commit, then wake their partitions.

The commit comes before the wake-up: a 202 is a promise only once the row is durable, and a
worker woken before the commit could look for the row and not find it. A wake-up that cannot be
sent is the sweeper's to resend, never an error for the client (``wake`` never raises).
"""

from flask import current_app

from api.extensions.database import db_session
from api.extensions.smorest import Problem
from api.resources.transfers.schemas import SIDES
from ledger.accept import Accepted, TransactionRequest, record_transactions
from ledger.errors import WalletNotFound
from workers.wakeups import wake


def accept(requests: list[TransactionRequest], *, batch: bool = False) -> list[Accepted]:
    """Accept ``requests`` in one statement and one commit; an unknown wallet is a 404 naming its field."""
    session = db_session()
    try:
        accepted = record_transactions(session, requests, current_app.config["PARTITIONS"])
    except WalletNotFound as exc:
        raise Problem(404, exc.code, exc.detail, errors=_naming(requests, exc, batch=batch)) from None
    session.commit()
    wake({a.transaction.partition for a in accepted if a.transaction.status == "queued"})
    return accepted


def _naming(requests: list[TransactionRequest], exc: WalletNotFound, *, batch: bool) -> dict:
    """The body fields (per batch index) that name the missing wallet."""
    by_index = {}
    for index, request in enumerate(requests):
        debit_field, credit_field = SIDES[request.type]
        sides = ((debit_field, request.debit_user_id), (credit_field, request.credit_user_id))
        named = {field: [exc.detail] for field, user_id in sides if user_id == exc.user_id}
        if named:
            by_index[index] = named
    return {"transactions": by_index} if batch else by_index.get(0, {})
