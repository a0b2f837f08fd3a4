"""Open a wallet and read one, with its transactions and its statement."""

from flask import jsonify

from api.extensions.auth import client_id
from api.extensions.database import db_connection, db_session
from api.extensions.responses import json_text
from api.extensions.smorest import Blueprint
from api.resources.wallets.schemas import (
    StatementQuerySchema,
    StatementSchema,
    WalletCreateSchema,
    WalletSchema,
    WalletViewSchema,
)
from api.shared.transactions import (
    TransactionPageQuerySchema,
    TransactionPageSchema,
    page_members,
    transaction_page,
)
from ledger.accept import create_wallet
from ledger.enums import Scope
from ledger.queries import wallet_json, wallet_statement, wallet_view
from ledger.representation import entry_as_dict

blp = Blueprint("wallets", __name__, description="Open and read wallets")

NO_WALLET = "wallet_not_found: no wallet has this user_id"
# Transactions shown with a wallet.
LATEST = 20


@blp.route("/users", methods=["POST"])
@blp.requires(Scope.WALLETS_WRITE)
@blp.arguments(WalletCreateSchema)
@blp.response(201, WalletSchema)
@blp.problem(409, "wallet_exists: a wallet with this user_id exists")
@blp.problem(413, "body_too_large: the body is over 64 KiB")
@blp.problem(415, "unsupported_media_type: the body is not application/json")
def open_wallet(body: dict):
    """Open a user or provider wallet with a zero balance (the seed's POST /users)."""
    session, client = db_session(), client_id()
    wallet = create_wallet(session, client, body["user_id"], body["acnt_type"], body["currency"])
    session.commit()
    return json_text(wallet_json(session, client, wallet.user_id), 201, {"Location": f"/wallets/{wallet.user_id}"})


@blp.route("/wallets/<user_id:user_id>", methods=["GET"])
@blp.requires(Scope.WALLETS_READ)
@blp.response(200, WalletViewSchema)
@blp.problem(404, NO_WALLET)
def show_wallet(user_id: str):
    """A wallet's balance and its latest transactions."""
    wallet, page = wallet_view(db_connection(), client_id(), user_id, LATEST)
    return json_text('{"wallet":' + wallet + "," + page_members(page) + "}")


@blp.route("/wallets/<user_id:user_id>/transactions", methods=["GET"])
@blp.requires(Scope.WALLETS_READ)
@blp.arguments(TransactionPageQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
@blp.problem(404, NO_WALLET)
def wallet_transactions(query: dict, user_id: str):
    """A wallet's transactions (paid or received), newest first, by cursor pages."""
    return json_text("{" + transaction_page(query, user_id) + "}")


@blp.route("/wallets/<user_id:user_id>/statement", methods=["GET"])
@blp.requires(Scope.WALLETS_READ)
@blp.arguments(StatementQuerySchema, location="query")
@blp.response(200, StatementSchema)
@blp.problem(404, NO_WALLET)
def statement(query: dict, user_id: str):
    """A wallet's entries, newest first: each applied transaction's amount and the balance it left."""
    cursor = query.get("starting_after")
    page = wallet_statement(db_session(), client_id(), user_id, limit=query["limit"], starting_after=cursor)
    return jsonify({"entries": [entry_as_dict(e) for e in page.items], "has_more": page.has_more})
