"""The seed's money routes, now asynchronous: each answers 202 with the queued transaction."""

import dataclasses

from flask import jsonify

from api.accept import accept
from api.extensions.database import db_session
from api.extensions.smorest import Blueprint
from api.prefer import preference_applied, wait_preference, wait_until_decided
from api.resources.transactions.schemas import TransactionSchema
from api.resources.transfers.schemas import DepositSchema, MovementHeadersSchema, TransferSchema, WithdrawSchema
from ledger.accept import TransactionRequest
from ledger.representation import transaction_as_dict

blp = Blueprint("transfers", __name__, url_prefix="/wallets", description="Move money: deposit, withdraw, transfer")

ANSWERS = {
    "description": "Accepted: queued, to be applied in order by a worker",
    "headers": {
        "Location": {"schema": {"type": "string"}, "description": "/transactions/{id}, to poll"},
        "Idempotent-Replayed": {"schema": {"type": "string"}, "description": "true when the key was seen before"},
    },
}


@blp.route("/deposit", methods=["POST"])
@blp.arguments(DepositSchema)
@blp.arguments(MovementHeadersSchema, location="headers")
@blp.response(202, TransactionSchema, **ANSWERS)
@blp.alt_response(200, schema=TransactionSchema, description="Decided within Prefer: wait", success=True)
def deposit(request_: TransactionRequest, headers: dict):
    """Deposit from a provider (default deposit-provider-master) into a user wallet."""
    return _accept_one(request_, headers)


@blp.route("/withdraw", methods=["POST"])
@blp.arguments(WithdrawSchema)
@blp.arguments(MovementHeadersSchema, location="headers")
@blp.response(202, TransactionSchema, **ANSWERS)
@blp.alt_response(200, schema=TransactionSchema, description="Decided within Prefer: wait", success=True)
def withdraw(request_: TransactionRequest, headers: dict):
    """Withdraw from a user wallet to a provider (default withdraw-provider-master)."""
    return _accept_one(request_, headers)


@blp.route("/transfer", methods=["POST"])
@blp.arguments(TransferSchema)
@blp.arguments(MovementHeadersSchema, location="headers")
@blp.response(202, TransactionSchema, **ANSWERS)
@blp.alt_response(200, schema=TransactionSchema, description="Decided within Prefer: wait", success=True)
def transfer(request_: TransactionRequest, headers: dict):
    """Transfer between two user wallets."""
    return _accept_one(request_, headers)


def _accept_one(request_: TransactionRequest, headers: dict):
    [accepted] = accept([dataclasses.replace(request_, idempotency_key=headers.get("idempotency_key"))])
    transaction = accepted.transaction
    answer = {"Location": f"/transactions/{transaction.id}"}
    if accepted.replayed:
        answer["Idempotent-Replayed"] = "true"
    status = 202
    seconds = wait_preference(headers.get("prefer"))
    if seconds is not None:
        answer |= preference_applied(seconds)
        if wait_until_decided(db_session(), transaction, seconds):
            status = 200
    return jsonify(transaction_as_dict(transaction)), status, answer
