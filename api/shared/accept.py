"""The accept path (docs/architecture.md): record the requests, then wake their partitions.

``accept_transactions`` runs on an autocommit connection, so it is one round trip and its own
transaction: committed before the wake-up. A 202 is a promise only once the row is durable, and a
worker woken before the commit could look for the row and not find it. A wake-up that cannot be
sent is the sweeper's to resend, never an error for the client (``wake`` never raises).

Each accept writes one log line (``event: accepted``) with the ids it was given: the first line of
each transaction's life in the logs, under the request's id.
"""

import logging
from collections.abc import Callable

from flask import Response, current_app

from api.extensions.auth import client_id
from api.extensions.database import db_connection
from api.extensions.metrics import count_accepted
from api.extensions.responses import json_text
from api.extensions.smorest import Blueprint, Schema
from api.extensions.wakeups import wakeups
from api.shared.headers import MovementHeadersSchema
from api.shared.prefer import wait_as_preferred
from api.shared.transactions import TransactionSchema
from ledger.accept import Accepted, FollowUp, TransactionRequest, record_follow_up, record_transactions
from ledger.enums import TransactionStatus

log = logging.getLogger(__name__)

KEY_REUSED = "idempotency_key_reused: the Idempotency-Key was used before with a different body"
QUEUED = {
    "description": "Accepted: queued in order after what came before it, applied or rejected by a worker",
    "headers": {
        "Location": {
            "schema": {"type": "string"},
            "description": "/transactions/{id} of the queued transaction, to poll",
        },
        "Idempotent-Replayed": {"schema": {"type": "string"}, "description": "true when the key was seen before"},
    },
}


def queues_one(blp: Blueprint, body: type[Schema]) -> Callable[[Callable], Callable]:
    """What every route that queues one transaction reads and answers (``accepted_answer``): its
    ``body``, then the Idempotency-Key and Prefer headers; 202 with the queued transaction, or 200
    once it is decided within ``Prefer: wait``."""

    def decorator(view: Callable) -> Callable:
        view = blp.alt_response(200, schema=TransactionSchema, description="Decided within Prefer: wait", success=True)(
            view
        )
        view = blp.response(202, TransactionSchema, **QUEUED)(view)
        view = blp.arguments(MovementHeadersSchema, location="headers")(view)
        return blp.arguments(body)(view)

    return decorator


def accept(requests: list[TransactionRequest]) -> list[Accepted]:
    """Accept the calling client's ``requests`` in one call and one commit; the ledger's errors propagate."""
    accepted = record_transactions(db_connection(), client_id(), requests, current_app.config["PARTITIONS"])
    count_accepted(r.type for r, a in zip(requests, accepted, strict=True) if not a.replayed)
    _wake(accepted)
    _log(accepted)
    return accepted


def accept_follow_up(request: FollowUp) -> Accepted:
    """Accept a capture, a void or a reversal of one of the calling client's transactions."""
    accepted = record_follow_up(db_connection(), client_id(), request, current_app.config["PARTITIONS"])
    if not accepted.replayed:
        count_accepted([request.type])
    _wake([accepted])
    _log([accepted], type=str(request.type), original_id=str(request.original_id))
    return accepted


def accepted_answer(accepted: Accepted, prefer: str | None) -> Response:
    """202 with the queued transaction and its Location, or 200 once decided within ``Prefer: wait``."""
    headers = {"Location": f"/transactions/{accepted.id}"}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    decided, applied = wait_as_preferred(db_connection(), accepted.id, prefer)
    if decided is None:
        return json_text(accepted.body, 202, headers | applied)
    return json_text(decided, 200, headers | applied)


def _log(accepted: list[Accepted], **context: str) -> None:
    # The hot path: one line per request, a batch's ids in it, and nothing built when INFO is off.
    if not log.isEnabledFor(logging.INFO):
        return
    replayed = [str(a.id) for a in accepted if a.replayed]
    context = {
        "event": "accepted",
        "transaction_ids": [str(a.id) for a in accepted],
        "partitions": sorted({a.partition for a in accepted}),
        **context,
    }
    if replayed:
        context["replayed_ids"] = replayed
    log.info("accepted %d transaction%s", len(accepted), "" if len(accepted) == 1 else "s", extra=context)


def _wake(accepted: list[Accepted]) -> None:
    wakeups().wake({a.partition for a in accepted if a.status == TransactionStatus.QUEUED})
