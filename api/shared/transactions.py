"""The transaction as every route shows it (documented here, built by ``ledger.representation``),
and one page of transactions, for ``GET /transactions`` and a wallet's own lists.
"""

from marshmallow import fields, validate

from api.extensions.auth import client_id
from api.extensions.database import db_connection
from api.extensions.problems import Problem
from api.extensions.responses import json_array
from api.extensions.smorest import Schema
from api.shared.pages import PageQuerySchema
from ledger.enums import MOVEMENTS, SETTLED_AS, FailureCode, TransactionStatus, TransactionType
from ledger.queries import Page, transaction_exists, transactions_json


class FailureSchema(Schema):
    code = fields.String(metadata={"enum": list(FailureCode)})
    message = fields.String()


class SettlementSchema(Schema):
    id = fields.UUID()
    type = fields.String(metadata={"enum": [str(t) for t in SETTLED_AS]})
    amount = fields.Integer(metadata={"description": "cents captured, or released"})
    applied_at = fields.DateTime()


class TransactionSchema(Schema):
    """Documents transaction_json (migration 0004), which builds every transaction answer."""

    id = fields.UUID()
    type = fields.String(metadata={"enum": list(TransactionType)})
    status = fields.String(
        metadata={"enum": list(TransactionStatus), "description": "queued until a worker decides it"}
    )
    amount = fields.Integer(metadata={"description": "cents"})
    currency = fields.String()
    from_user_id = fields.String(metadata={"description": "The debited wallet (the provider, for a deposit)"})
    to_user_id = fields.String(metadata={"description": "The credited wallet (the provider, for a withdrawal)"})
    metadata = fields.Dict(allow_none=True)
    created_at = fields.DateTime(metadata={"description": "When it was accepted (UTC)"})
    applied_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True, metadata={"description": "When it was applied or rejected"})
    failure = fields.Nested(FailureSchema, allow_none=True, metadata={"description": "Why it was rejected"})
    hold = fields.Boolean(metadata={"description": "A hold: held, then captured, voided or expired"})
    expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "A hold's: when it is released if still unsettled"}
    )
    settled_by = fields.Nested(
        SettlementSchema, allow_none=True, metadata={"description": "A settled hold's capture, void or expiry"}
    )
    original_id = fields.UUID(
        allow_none=True, metadata={"description": "What a capture, void or expiry settles, or a reversal reverses"}
    )
    reversed_amount = fields.Integer(metadata={"description": "cents given back by applied reversals"})
    reversals = fields.List(fields.UUID(), metadata={"description": "The applied reversals, oldest first"})


class TransactionPageSchema(Schema):
    transactions = fields.List(fields.Nested(TransactionSchema), metadata={"description": "Newest first"})
    has_more = fields.Boolean(metadata={"description": "Ask again with starting_after = the last id"})


class TransactionPageQuerySchema(PageQuerySchema):
    starting_after = fields.UUID(
        metadata={
            "description": "Id of the last transaction of the previous page. An id that names no transaction is"
            " refused: 400 invalid_cursor."
        }
    )
    type = fields.String(validate=validate.OneOf([*MOVEMENTS, *SETTLED_AS, TransactionType.REVERSAL]))
    status = fields.String(validate=validate.OneOf(list(TransactionStatus)))


def transaction_page(query: dict, user_id: str | None = None) -> str:
    """One page of the calling client's transactions as the JSON members ``"transactions":[...],"has_more":...``.

    An unknown cursor is a 400, not an empty page.
    """
    db, client = db_connection(), client_id()
    starting_after = query.get("starting_after")
    if starting_after is not None and not transaction_exists(db, client, starting_after):
        raise Problem(400, "invalid_cursor", f"starting_after: no transaction with id {starting_after}")
    page = transactions_json(
        db,
        client,
        user_id=user_id,
        type=query.get("type"),
        status=query.get("status"),
        limit=query["limit"],
        starting_after=starting_after,
    )
    return page_members(page)


def page_members(page: Page[str]) -> str:
    """The JSON members ``"transactions":[...],"has_more":...`` of a page of transaction JSON texts."""
    return f'"transactions":{json_array(page.items)},"has_more":{"true" if page.has_more else "false"}'
