"""Opening a wallet, and the documented shapes of wallet_json (migration 0004) and of a statement
(ledger.representation.entry_as_dict)."""

from marshmallow import fields, validate

from api.extensions.smorest import Schema
from api.shared import fields as domain
from api.shared.pages import PageQuerySchema
from api.shared.transactions import TransactionPageSchema
from ledger.enums import AccountType, TransactionType, WalletStatus

# `system` (world) and `holding` accounts are the ledger's own; clients cannot open one.
OPENABLE_ACCOUNT_TYPES = (AccountType.USER, AccountType.PROVIDER)


class WalletCreateSchema(Schema):
    user_id = domain.user_id(required=True)
    acnt_type = fields.String(required=True, validate=validate.OneOf(OPENABLE_ACCOUNT_TYPES))
    currency = domain.currency(load_default="USD")


class WalletSchema(Schema):
    """Documents wallet_json (migration 0004), which builds every wallet answer."""

    user_id = fields.String()
    acnt_type = fields.String(metadata={"enum": list(AccountType)})
    currency = fields.String()
    status = fields.String(metadata={"enum": list(WalletStatus)})
    balance = fields.Integer(
        metadata={
            "description": "cents the wallet holds, not counting held money (a hold moves it out until it is"
            " settled); changes only when a worker applies a transaction"
        }
    )
    held = fields.Integer(metadata={"description": "cents reserved by this wallet's open holds"})
    available = fields.Integer(metadata={"description": "cents the wallet can spend now: its balance, never below 0"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class WalletViewSchema(TransactionPageSchema):
    """A wallet and its latest page of transactions."""

    wallet = fields.Nested(WalletSchema)


class StatementQuerySchema(PageQuerySchema):
    starting_after = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "Id of the last entry of the previous page"}
    )


class EntrySchema(Schema):
    """Documents ledger.representation.entry_as_dict."""

    id = fields.Integer(metadata={"description": "The entry's id: the cursor of the next page"})
    transaction_id = fields.UUID()
    type = fields.String(metadata={"enum": list(TransactionType)})
    amount = fields.Integer(metadata={"description": "cents; negative when the wallet paid, positive when it received"})
    balance_after = fields.Integer(metadata={"description": "The wallet's balance once this entry was applied"})
    created_at = fields.DateTime(metadata={"description": "When the transaction was applied (UTC)"})


class StatementSchema(Schema):
    entries = fields.List(fields.Nested(EntrySchema), metadata={"description": "Newest first"})
    has_more = fields.Boolean(metadata={"description": "Ask again with starting_after = the last id"})
