"""Poll a transaction, and list transactions."""

import uuid

from flask import jsonify

from api.extensions.database import db_session
from api.extensions.smorest import Blueprint
from api.shared.headers import PreferHeaderSchema
from api.shared.prefer import wait_as_preferred
from api.shared.transactions import (
    TransactionPageQuerySchema,
    TransactionPageSchema,
    TransactionSchema,
    transaction_page,
)
from ledger.queries import get_transaction
from ledger.representation import transaction_as_dict

blp = Blueprint("transactions", __name__, url_prefix="/transactions", description="Poll and list")


@blp.route("/<uuid:transaction_id>", methods=["GET"])
@blp.arguments(PreferHeaderSchema, location="headers")
@blp.response(200, TransactionSchema)
@blp.problem(404, "transaction_not_found: no transaction has this id")
def get_one(headers: dict, transaction_id: uuid.UUID):
    """A transaction and its current status; with Prefer: wait=N, once decided (or after N seconds)."""
    session = db_session()
    transaction = get_transaction(session, transaction_id)
    _, applied = wait_as_preferred(session, transaction, headers.get("prefer"))
    return jsonify(transaction_as_dict(transaction)), 200, applied


@blp.route("", methods=["GET"])
@blp.arguments(TransactionPageQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
def list_all(query: dict):
    """All transactions, newest first, filtered by type and status, by cursor pages."""
    return jsonify(transaction_page(query))
