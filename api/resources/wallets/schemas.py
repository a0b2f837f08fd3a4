"""Opening a wallet, and the documented shape of wallet_json (migration 0004)."""

from marshmallow import fields, validate

from api.extensions.smorest import Schema
from api.shared import fields as domain
from api.shared.transactions import TransactionPageSchema
from ledger.enums import AccountType, WalletStatus

# `system` is the ledger's own account (world); clients cannot open one.
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
    balance = fields.Integer(metadata={"description": "cents; changes only when a worker applies a transaction"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class WalletViewSchema(TransactionPageSchema):
    """A wallet and its latest page of transactions."""

    wallet = fields.Nested(WalletSchema)
