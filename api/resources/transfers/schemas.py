"""Request bodies of the money movements; each loads straight into a ledger TransactionRequest.

The same schemas, with ``type`` and ``idempotency_key`` added, validate the items of a batch.
"""

import json
from typing import ClassVar

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from api import fields as domain
from api.extensions.smorest import Schema
from api.resources.webhooks.schemas import safe_callback_url
from ledger.accept import TransactionRequest

DEPOSIT_PROVIDER = "deposit-provider-master"
WITHDRAW_PROVIDER = "withdraw-provider-master"
METADATA_MAX_BYTES = 4096
IDEMPOTENCY_KEY_LENGTH = validate.Length(min=1, max=255)


def _small_json(value: dict) -> None:
    if len(json.dumps(value, separators=(",", ":")).encode()) > METADATA_MAX_BYTES:
        raise ValidationError(f"Must be at most {METADATA_MAX_BYTES} bytes of JSON.")


class MovementSchema(Schema):
    """Fields every movement takes. Subclasses say which of their fields is debited and which credited."""

    TYPE: ClassVar[str]
    DEBIT: ClassVar[str]
    CREDIT: ClassVar[str]

    amount = domain.amount(required=True)
    currency = domain.currency(metadata={"description": "Defaults to the customer wallet's currency"})
    metadata = fields.Dict(
        keys=fields.String(),
        validate=_small_json,
        metadata={"description": f"Any JSON object of at most {METADATA_MAX_BYTES} bytes, returned as is"},
    )
    callback_url = fields.URL(
        schemes={"http", "https"},
        require_tld=False,
        validate=[validate.Length(max=2048), safe_callback_url],
        metadata={"description": "Receives the signed transaction.applied / transaction.rejected webhook"},
    )

    @validates_schema
    def _two_wallets(self, data: dict, **kwargs) -> None:
        if data[self.DEBIT] == data[self.CREDIT]:
            raise ValidationError(f"Must differ from {self.DEBIT}.", self.CREDIT)

    @post_load
    def _as_request(self, data: dict, **kwargs) -> TransactionRequest:
        return TransactionRequest(
            type=self.TYPE,
            debit_user_id=data[self.DEBIT],
            credit_user_id=data[self.CREDIT],
            amount=data["amount"],
            currency=data.get("currency"),
            idempotency_key=data.get("idempotency_key"),
            metadata=data.get("metadata"),
            callback_url=data.get("callback_url"),
        )


class DepositSchema(MovementSchema):
    TYPE, DEBIT, CREDIT = "deposit", "provider_id", "user_id"

    user_id = domain.user_id(required=True)
    provider_id = domain.user_id(load_default=DEPOSIT_PROVIDER, metadata={"example": DEPOSIT_PROVIDER})


class WithdrawSchema(MovementSchema):
    TYPE, DEBIT, CREDIT = "withdraw", "user_id", "provider_id"

    user_id = domain.user_id(required=True)
    provider_id = domain.user_id(load_default=WITHDRAW_PROVIDER, metadata={"example": WITHDRAW_PROVIDER})


class TransferSchema(MovementSchema):
    TYPE, DEBIT, CREDIT = "transfer", "from_user_id", "to_user_id"

    from_user_id = domain.user_id(required=True)
    to_user_id = domain.user_id(required=True, metadata={"example": "test-user-2"})


# The body field holding each side of each movement, to name it when its wallet does not exist.
SIDES = {schema.TYPE: (schema.DEBIT, schema.CREDIT) for schema in (DepositSchema, WithdrawSchema, TransferSchema)}


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=IDEMPOTENCY_KEY_LENGTH,
        metadata={"description": "1-255 characters. Same key and body: the original transaction, not a new one."},
    )


class PreferHeaderSchema(Schema):
    prefer = fields.String(
        data_key="Prefer",
        metadata={
            "description": "RFC 7240. wait=N (N <= 30): hold the answer until the transaction is applied or"
            " rejected (200), at most N seconds (then 202). Other preferences are ignored.",
            "example": "wait=10",
        },
    )


class MovementHeadersSchema(IdempotencyHeaderSchema, PreferHeaderSchema):
    pass
