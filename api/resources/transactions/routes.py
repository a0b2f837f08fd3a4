"""Poll a transaction, list transactions, and accept a batch of them in one commit."""

import dataclasses
import hashlib
import uuid

from flask import jsonify

from api.accept import accept
from api.extensions.database import db_session
from api.extensions.smorest import Blueprint, Problem, max_body
from api.prefer import preference_applied, wait_preference, wait_until_decided
from api.resources.transactions.schemas import (
    BatchResultSchema,
    BatchSchema,
    PageQuerySchema,
    TransactionPageSchema,
    TransactionSchema,
)
from api.resources.transfers.schemas import IdempotencyHeaderSchema, PreferHeaderSchema
from ledger.accept import TransactionRequest
from ledger.models import Transaction
from ledger.queries import get_transaction, list_transactions
from ledger.representation import transaction_as_dict

blp = Blueprint("transactions", __name__, url_prefix="/transactions", description="Poll, list, and batch")


@blp.route("/<uuid:transaction_id>", methods=["GET"])
@blp.arguments(PreferHeaderSchema, location="headers")
@blp.response(200, TransactionSchema)
def get_one(headers: dict, transaction_id: uuid.UUID):
    """A transaction and its current status; with Prefer: wait=N, once decided (or after N seconds)."""
    session = db_session()
    transaction = get_transaction(session, transaction_id)
    if transaction is None:
        raise Problem(404, "transaction_not_found", f"no transaction with id {transaction_id}")
    answer = {}
    seconds = wait_preference(headers.get("prefer"))
    if seconds is not None:
        wait_until_decided(session, transaction, seconds)
        answer = preference_applied(seconds)
    return jsonify(transaction_as_dict(transaction)), 200, answer


@blp.route("", methods=["GET"])
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
def list_all(query: dict):
    """All transactions, newest first, filtered by type and status, by cursor pages."""
    return jsonify(transaction_page(query))


@blp.route("/batch", methods=["POST"])
@max_body("API_MAX_BATCH_BODY_BYTES")
@blp.arguments(BatchSchema)
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.response(202, BatchResultSchema, description="Every item accepted (queued) in one commit")
def batch(body: dict, headers: dict):
    """Accept 1 to 1,000 movements in one commit; each is applied (or rejected) on its own.

    Nothing is accepted unless every item is valid and names existing wallets. An
    ``Idempotency-Key`` header covers the whole batch: each item without an ``idempotency_key`` of
    its own gets one derived from the header and its index, so a retried batch is replayed whole.
    """
    batch_key = headers.get("idempotency_key")
    accepted = accept(_keyed(body["transactions"], batch_key), batch=True)
    answer = {}
    if batch_key is not None and all(a.replayed for a in accepted):
        answer["Idempotent-Replayed"] = "true"
    return jsonify({"transactions": [transaction_as_dict(a.transaction) for a in accepted]}), 202, answer


def transaction_page(query: dict, user_id: str | None = None) -> dict:
    """One page of ``list_transactions`` as JSON; an unknown cursor is a 400, not an empty page."""
    session = db_session()
    starting_after = query.get("starting_after")
    if starting_after is not None and session.get(Transaction, starting_after) is None:
        raise Problem(400, "invalid_cursor", f"starting_after: no transaction with id {starting_after}")
    page = list_transactions(
        session,
        user_id=user_id,
        type=query.get("type"),
        status=query.get("status"),
        limit=query["limit"],
        starting_after=starting_after,
    )
    return {"transactions": [transaction_as_dict(t) for t in page.items], "has_more": page.has_more}


def _keyed(requests: list[TransactionRequest], batch_key: str | None) -> list[TransactionRequest]:
    if batch_key is None:
        return requests
    # Hashed so that a derived key stays within 255 characters whatever the header's length.
    prefix = "batch:" + hashlib.sha256(batch_key.encode()).hexdigest()[:32]
    return [
        r if r.idempotency_key is not None else dataclasses.replace(r, idempotency_key=f"{prefix}:{index}")
        for index, r in enumerate(requests)
    ]
