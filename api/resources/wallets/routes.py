"""Open a wallet and read one, with its transactions."""

from api.extensions.database import db_connection, db_session
from api.extensions.responses import json_text
from api.extensions.smorest import Blueprint
from api.resources.wallets.schemas import WalletCreateSchema, WalletSchema, WalletViewSchema
from api.shared.transactions import TransactionPageQuerySchema, TransactionPageSchema, transaction_page
from ledger.accept import create_wallet
from ledger.queries import wallet_json

blp = Blueprint("wallets", __name__, description="Open and read wallets")


@blp.route("/users", methods=["POST"])
@blp.arguments(WalletCreateSchema)
@blp.response(201, WalletSchema)
@blp.alt_response(409, response="CONFLICT", description="A wallet with this user_id exists")
def open_wallet(body: dict):
    """Open a user or provider wallet with a zero balance (the seed's POST /users)."""
    session = db_session()
    wallet = create_wallet(session, body["user_id"], body["acnt_type"], body["currency"])
    session.commit()
    return json_text(wallet_json(session, wallet.user_id), 201, {"Location": f"/wallets/{wallet.user_id}"})


@blp.route("/wallets/<user_id>", methods=["GET"])
@blp.response(200, WalletViewSchema)
def show_wallet(user_id: str):
    """A wallet's balance and its latest transactions."""
    wallet = wallet_json(db_connection(), user_id)
    return json_text('{"wallet":' + wallet + "," + transaction_page({"limit": 20}, user_id) + "}")


@blp.route("/wallets/<user_id>/transactions", methods=["GET"])
@blp.arguments(TransactionPageQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
def wallet_transactions(query: dict, user_id: str):
    """A wallet's transactions (paid or received), newest first, by cursor pages."""
    return json_text("{" + transaction_page(query, user_id) + "}")
