"""The seed's money routes, now asynchronous, and the batch: each answers 202 with queued transactions."""

import dataclasses
import hashlib

from api.extensions.problems import Problem
from api.extensions.responses import json_array, json_text
from api.extensions.smorest import Blueprint, max_body
from api.resources.movements.schemas import (
    SIDES,
    BatchResultSchema,
    BatchSchema,
    DepositSchema,
    TransferSchema,
    WithdrawSchema,
)
from api.shared.accept import KEY_REUSED, accept, accepted_answer, queues_one
from api.shared.admission import BEHIND, admitted_while_current
from api.shared.headers import IdempotencyHeaderSchema
from ledger.accept import Accepted, TransactionRequest
from ledger.enums import Scope
from ledger.errors import WalletNotFound

blp = Blueprint("movements", __name__, description="Move money: deposit, withdraw, transfer, or a batch of them")

NO_WALLET = "wallet_not_found: a wallet named in the body does not exist"
TOO_LARGE = "body_too_large: the body is over API_MAX_BODY_BYTES (64 KiB)"
NOT_JSON = "unsupported_media_type: the body is not application/json"


@blp.route("/wallets/deposit", methods=["POST"])
@blp.requires(Scope.TRANSACTIONS_WRITE)
@queues_one(blp, DepositSchema)
@blp.problem(404, NO_WALLET)
@blp.problem(409, KEY_REUSED)
@blp.problem(413, TOO_LARGE)
@blp.problem(415, NOT_JSON)
def deposit(request_: TransactionRequest, headers: dict):
    """Deposit from a provider (default deposit-provider-master) into a user wallet."""
    return _accept_one(request_, headers)


@blp.route("/wallets/withdraw", methods=["POST"])
@blp.requires(Scope.TRANSACTIONS_WRITE)
@queues_one(blp, WithdrawSchema)
@blp.problem(404, NO_WALLET)
@blp.problem(409, KEY_REUSED)
@blp.problem(413, TOO_LARGE)
@blp.problem(415, NOT_JSON)
def withdraw(request_: TransactionRequest, headers: dict):
    """Withdraw from a user wallet to a provider (default withdraw-provider-master)."""
    return _accept_one(request_, headers)


@blp.route("/wallets/transfer", methods=["POST"])
@blp.requires(Scope.TRANSACTIONS_WRITE)
@queues_one(blp, TransferSchema)
@blp.problem(404, NO_WALLET)
@blp.problem(409, KEY_REUSED)
@blp.problem(413, TOO_LARGE)
@blp.problem(415, NOT_JSON)
def transfer(request_: TransactionRequest, headers: dict):
    """Transfer between two user wallets."""
    return _accept_one(request_, headers)


@blp.route("/transactions/batch", methods=["POST"])
@blp.requires(Scope.TRANSACTIONS_WRITE)
@admitted_while_current
@max_body("API_MAX_BATCH_BODY_BYTES")
@blp.arguments(BatchSchema)
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.response(202, BatchResultSchema, description="Every item accepted (queued) in one commit")
@blp.problem(404, "wallet_not_found: a wallet named by an item does not exist (errors names the items)")
@blp.problem(409, "idempotency_key_reused: an item's key was used before with a different body")
@blp.problem(413, "body_too_large: the body is over API_MAX_BATCH_BODY_BYTES (2 MiB)")
@blp.problem(415, NOT_JSON)
@blp.problem(503, BEHIND)
def batch(body: dict, headers: dict):
    """Accept 1 to 1,000 movements in one commit; each is applied (or rejected) on its own.

    Nothing is accepted unless every item is valid and names existing wallets. An
    ``Idempotency-Key`` header covers the whole batch: each item without an ``idempotency_key`` of
    its own gets one derived from the header and its index, so a retried batch is replayed whole.
    """
    batch_key = headers.get("idempotency_key")
    accepted = _accept(_keyed(body["transactions"], batch_key), batch=True)
    answer = {}
    if batch_key is not None and all(a.replayed for a in accepted):
        answer["Idempotent-Replayed"] = "true"
    return json_text('{"transactions":' + json_array(a.body for a in accepted) + "}", 202, answer)


def _accept_one(request_: TransactionRequest, headers: dict):
    [accepted] = _accept([dataclasses.replace(request_, idempotency_key=headers.get("idempotency_key"))])
    return accepted_answer(accepted, headers.get("prefer"))


def _accept(requests: list[TransactionRequest], *, batch: bool = False) -> list[Accepted]:
    """Accept ``requests``; an unknown wallet is a 404 naming the body fields (per batch index) that name it."""
    try:
        return accept(requests)
    except WalletNotFound as exc:
        by_index = {}
        for index, request_ in enumerate(requests):
            debit_field, credit_field = SIDES[request_.type]
            sides = ((debit_field, request_.debit_user_id), (credit_field, request_.credit_user_id))
            named = {field: [exc.detail] for field, user_id in sides if user_id == exc.user_id}
            if named:
                by_index[index] = named
        errors = {"transactions": by_index} if batch else by_index.get(0, {})
        raise Problem(404, exc.code, exc.detail, errors=errors) from None


def _keyed(requests: list[TransactionRequest], batch_key: str | None) -> list[TransactionRequest]:
    if batch_key is None:
        return requests
    # Hashed so that a derived key stays within 255 characters whatever the header's length.
    prefix = "batch:" + hashlib.sha256(batch_key.encode()).hexdigest()[:32]
    return [
        r if r.idempotency_key is not None else dataclasses.replace(r, idempotency_key=f"{prefix}:{index}")
        for index, r in enumerate(requests)
    ]
