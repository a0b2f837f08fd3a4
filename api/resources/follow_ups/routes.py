"""Capture or void a hold, reverse an applied transaction: each queued like any movement (202)."""

import uuid

from api.extensions.smorest import Blueprint
from api.resources.follow_ups.schemas import CaptureSchema, ReverseSchema, VoidSchema
from api.shared.accept import KEY_REUSED, accept_follow_up, accepted_answer, queues_one
from ledger.accept import FollowUp
from ledger.enums import Scope, TransactionType

blp = Blueprint(
    "follow_ups",
    __name__,
    url_prefix="/transactions",
    description="Settle a hold (capture, void) or reverse an applied transaction",
)

NO_TRANSACTION = "transaction_not_found: no transaction of this client has this id"
NOT_A_HOLD = "not_a_hold: the transaction is not a hold; " + KEY_REUSED


@blp.route("/<uuid:transaction_id>/capture", methods=["POST"])
@blp.requires(Scope.TRANSACTIONS_WRITE)
@queues_one(blp, CaptureSchema)
@blp.problem(404, NO_TRANSACTION)
@blp.problem(409, NOT_A_HOLD)
def capture(body: dict, headers: dict, transaction_id: uuid.UUID):
    """Move all (or ``amount``) of a hold to its payee; the rest goes back to the payer.

    Rejected (``hold_not_pending``) if the hold was captured, voided or expired first, or was
    itself rejected. A capture sent before its hold is applied is applied after it.
    """
    return _follow_up(TransactionType.CAPTURE, transaction_id, body, headers)


@blp.route("/<uuid:transaction_id>/void", methods=["POST"])
@blp.requires(Scope.TRANSACTIONS_WRITE)
@queues_one(blp, VoidSchema)
@blp.problem(404, NO_TRANSACTION)
@blp.problem(409, NOT_A_HOLD)
def void(body: dict, headers: dict, transaction_id: uuid.UUID):
    """Give a hold's whole amount back to its payer (rejected with ``hold_not_pending`` if settled first)."""
    return _follow_up(TransactionType.VOID, transaction_id, body, headers)


@blp.route("/<uuid:transaction_id>/reverse", methods=["POST"])
@blp.requires(Scope.TRANSACTIONS_WRITE)
@queues_one(blp, ReverseSchema)
@blp.problem(404, NO_TRANSACTION)
@blp.problem(
    409,
    "transaction_not_applied: only an applied transaction can be reversed; not_reversible: not a deposit,"
    " withdraw, transfer or capture; reversal_exceeds_original: nothing (or less) is left to reverse; " + KEY_REUSED,
)
def reverse(body: dict, headers: dict, transaction_id: uuid.UUID):
    """Move all (or ``amount``) of what is left of an applied transaction back from its payee to its payer.

    Reversals of one transaction never sum past it: a reversal for more than is left when a worker
    applies it is rejected (``reversal_exceeds_original``), one the payee cannot afford too
    (``insufficient_funds``).
    """
    return _follow_up(TransactionType.REVERSAL, transaction_id, body, headers)


def _follow_up(kind: TransactionType, transaction_id: uuid.UUID, body: dict, headers: dict):
    request = FollowUp(
        kind,
        transaction_id,
        amount=body.get("amount"),
        idempotency_key=headers.get("idempotency_key"),
        callback_url=body.get("callback_url"),
    )
    return accepted_answer(accept_follow_up(request), headers.get("prefer"))
