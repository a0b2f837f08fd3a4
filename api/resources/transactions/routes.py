"""Poll a transaction, and list transactions."""

import uuid

from api.extensions.database import db_connection
from api.extensions.responses import json_text
from api.extensions.smorest import Blueprint
from api.shared.headers import PreferHeaderSchema
from api.shared.prefer import preference_applied, wait_preference, wait_until_decided
from api.shared.transactions import (
    TransactionPageQuerySchema,
    TransactionPageSchema,
    TransactionSchema,
    transaction_page,
)
from ledger.queries import transaction_json

blp = Blueprint("transactions", __name__, url_prefix="/transactions", description="Poll and list")


@blp.route("/<uuid:transaction_id>", methods=["GET"])
@blp.arguments(PreferHeaderSchema, location="headers")
@blp.response(200, TransactionSchema)
def get_one(headers: dict, transaction_id: uuid.UUID):
    """A transaction and its current status; with Prefer: wait=N, once decided (or after N seconds)."""
    db = db_connection()
    body = transaction_json(db, transaction_id)
    seconds = wait_preference(headers.get("prefer"))
    if seconds is None:
        return json_text(body)
    return json_text(wait_until_decided(db, transaction_id, seconds) or body, headers=preference_applied(seconds))


@blp.route("", methods=["GET"])
@blp.arguments(TransactionPageQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
def list_all(query: dict):
    """All transactions, newest first, filtered by type and status, by cursor pages."""
    return json_text("{" + transaction_page(query) + "}")
