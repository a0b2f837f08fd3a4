"""Poll a transaction, and list transactions."""

import uuid

from api.extensions.auth import client_id
from api.extensions.database import db_connection
from api.extensions.responses import json_text
from api.extensions.smorest import Blueprint
from api.shared.headers import PreferHeaderSchema
from api.shared.prefer import wait_as_preferred
from api.shared.transactions import (
    TransactionPageQuerySchema,
    TransactionPageSchema,
    TransactionSchema,
    transaction_page,
)
from ledger.enums import Scope
from ledger.queries import transaction_json

blp = Blueprint("transactions", __name__, url_prefix="/transactions", description="Poll and list")


@blp.route("/<uuid:transaction_id>", methods=["GET"])
@blp.requires(Scope.TRANSACTIONS_READ)
@blp.arguments(PreferHeaderSchema, location="headers")
@blp.response(200, TransactionSchema)
@blp.problem(404, "transaction_not_found: no transaction has this id")
def get_one(headers: dict, transaction_id: uuid.UUID):
    """A transaction and its current status; with Prefer: wait=N, once decided (or after N seconds)."""
    db = db_connection()
    body = transaction_json(db, client_id(), transaction_id)
    decided, applied = wait_as_preferred(db, transaction_id, headers.get("prefer"))
    return json_text(decided or body, headers=applied)


@blp.route("", methods=["GET"])
@blp.requires(Scope.TRANSACTIONS_READ)
@blp.arguments(TransactionPageQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
def list_all(query: dict):
    """The client's transactions, newest first, filtered by type and status, by cursor pages."""
    return json_text("{" + transaction_page(query) + "}")
