"""What the transaction routes read (queries, the batch) and document (the transaction itself)."""

from marshmallow import ValidationError, fields, validate

import settings
from api.extensions.smorest import Schema
from api.resources.transfers.schemas import (
    IDEMPOTENCY_KEY_LENGTH,
    DepositSchema,
    TransferSchema,
    WithdrawSchema,
)
from ledger.models import TRANSACTION_STATUSES, TRANSACTION_TYPES


class FailureSchema(Schema):
    code = fields.String(metadata={"enum": ["insufficient_funds", "wallet_inactive", "currency_mismatch"]})
    message = fields.String()


class TransactionSchema(Schema):
    """Documents ledger.representation.transaction_as_dict, which builds every transaction answer."""

    id = fields.UUID()
    type = fields.String(metadata={"enum": [*TRANSACTION_TYPES, "opening"]})
    status = fields.String(
        metadata={"enum": list(TRANSACTION_STATUSES), "description": "queued until a worker decides it"}
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


class TransactionPageSchema(Schema):
    transactions = fields.List(fields.Nested(TransactionSchema), metadata={"description": "Newest first"})
    has_more = fields.Boolean(metadata={"description": "Ask again with starting_after = the last id"})


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    starting_after = fields.UUID(metadata={"description": "Id of the last transaction of the previous page"})
    type = fields.String(validate=validate.OneOf(TRANSACTION_TYPES))
    status = fields.String(validate=validate.OneOf(TRANSACTION_STATUSES))


class BatchDepositSchema(DepositSchema):
    type = fields.String(required=True, validate=validate.Equal("deposit"))
    idempotency_key = fields.String(validate=IDEMPOTENCY_KEY_LENGTH)


class BatchWithdrawSchema(WithdrawSchema):
    type = fields.String(required=True, validate=validate.Equal("withdraw"))
    idempotency_key = fields.String(validate=IDEMPOTENCY_KEY_LENGTH)


class BatchTransferSchema(TransferSchema):
    type = fields.String(required=True, validate=validate.Equal("transfer"))
    idempotency_key = fields.String(validate=IDEMPOTENCY_KEY_LENGTH)


class BatchItem(fields.Field):
    """One movement of any type: loaded by the schema its ``type`` names (documented as their oneOf)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.schemas = {
            schema.TYPE: schema() for schema in (BatchDepositSchema, BatchWithdrawSchema, BatchTransferSchema)
        }
        self.one_of = list(self.schemas.values())

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("Must be an object.")
        schema = self.schemas.get(value.get("type"))
        if schema is None:
            raise ValidationError({"type": [f"Must be one of: {', '.join(self.schemas)}."]})
        return schema.load(value)


class BoundedList(fields.List):
    """A List that refuses an oversized input before loading any of its items."""

    def __init__(self, inner: fields.Field, *, max_items: int, **kwargs) -> None:
        super().__init__(inner, validate=validate.Length(min=1, max=max_items), **kwargs)
        self.max_items = max_items

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list) and len(value) > self.max_items:
            raise ValidationError(f"Must hold at most {self.max_items} items.")
        return super()._deserialize(value, attr, data, **kwargs)


class BatchSchema(Schema):
    transactions = BoundedList(BatchItem(), max_items=settings.API_MAX_BATCH_ITEMS, required=True)


class BatchResultSchema(Schema):
    transactions = fields.List(fields.Nested(TransactionSchema), metadata={"description": "In request order"})
