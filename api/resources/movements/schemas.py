"""Request bodies of the money movements; each loads straight into a ledger TransactionRequest.

The same schemas, with ``type`` and ``idempotency_key`` added, validate the items of a batch.
"""

import json
import re
from typing import Any, ClassVar

from flask import current_app
from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from api.extensions.smorest import BoundedList, Schema
from api.shared import fields as domain
from api.shared import headers
from api.shared.transactions import TransactionSchema
from ledger.accept import TransactionRequest
from ledger.enums import MAX_AMOUNT, USER_ID_PATTERN, TransactionType

DEPOSIT_PROVIDER = "deposit-provider-master"
WITHDRAW_PROVIDER = "withdraw-provider-master"
METADATA_MAX_BYTES = 4096
# Deep enough for any real document; 4 KiB of brackets would be ~2,000 levels, which breaks the
# recursive JSON encoders of everyone who reads the transaction afterwards.
METADATA_MAX_DEPTH = 32


def _bounded_json(value: dict) -> None:
    # Depth first: measuring the size encodes the value, which recursion would not survive.
    if deeper_than(value, METADATA_MAX_DEPTH):
        raise ValidationError(f"Must nest at most {METADATA_MAX_DEPTH} levels of objects and arrays.")
    if len(json.dumps(value, separators=(",", ":")).encode()) > METADATA_MAX_BYTES:
        raise ValidationError(f"Must be at most {METADATA_MAX_BYTES} bytes of JSON.")


def deeper_than(value: dict | list, most: int) -> bool:
    """True if objects and arrays nest more than ``most`` levels (``value`` itself is level 1)."""
    level = [value]
    for _ in range(most):
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


class MovementSchema(Schema):
    """Fields every movement takes. Subclasses say which of their fields is debited and which credited."""

    TYPE: ClassVar[TransactionType]
    DEBIT: ClassVar[str]
    CREDIT: ClassVar[str]

    amount = domain.amount(required=True)
    currency = domain.currency(metadata={"description": "Defaults to the customer wallet's currency"})
    metadata = fields.Dict(
        keys=fields.String(),
        validate=_bounded_json,
        metadata={
            "description": f"Any JSON object of at most {METADATA_MAX_BYTES} bytes and {METADATA_MAX_DEPTH} levels,"
            " returned as is"
        },
    )
    callback_url = domain.callback_url()

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.plain = PlainMovement(self)

    def load(self, data: Any, *, many: bool | None = None, partial: bool | None = None, **kwargs) -> Any:
        """The common movement read by ``PlainMovement``; anything else, every invalid one included,
        loaded (or refused, with marshmallow's messages) by the schema."""
        read = self.plain.read(data) if isinstance(data, dict) and not many and not partial else None
        return read or super().load(data, many=many, partial=partial, **kwargs)

    @validates_schema
    def _two_wallets(self, data: dict, **kwargs) -> None:
        if data[self.DEBIT] == data[self.CREDIT]:
            raise ValidationError(f"Must differ from {self.DEBIT}.", self.CREDIT)

    @post_load
    def _as_request(self, data: dict, **kwargs) -> TransactionRequest:
        hold = data.get("hold", False)
        expires_in = data.get("expires_in", current_app.config["HOLD_DEFAULT_EXPIRES_SECONDS"] if hold else None)
        return TransactionRequest(
            type=self.TYPE,
            debit_user_id=data[self.DEBIT],
            credit_user_id=data[self.CREDIT],
            amount=data["amount"],
            currency=data.get("currency"),
            idempotency_key=data.get("idempotency_key"),
            metadata=data.get("metadata"),
            callback_url=data.get("callback_url"),
            hold=hold,
            expires_in=expires_in,
        )


class HoldSchema(MovementSchema):
    """A withdraw or a transfer may be a hold: reserved now, captured or voided later (docs/api.md)."""

    hold = domain.StrictBoolean(
        load_default=False,
        metadata={"description": "Reserve the amount now; capture or void it later (POST /transactions/{id}/...)"},
    )
    expires_in = fields.Integer(
        strict=True,
        validate=validate.Range(min=1),
        metadata={
            "description": "Seconds until an unsettled hold is released; default HOLD_DEFAULT_EXPIRES_SECONDS"
            " (7 days), at most HOLD_MAX_EXPIRES_SECONDS (30 days)"
        },
    )

    @validates_schema
    def _expiry_of_a_hold(self, data: dict, **kwargs) -> None:
        if "expires_in" not in data:
            return
        if not data.get("hold"):
            raise ValidationError("Only a hold expires.", "expires_in")
        most = current_app.config["HOLD_MAX_EXPIRES_SECONDS"]
        if data["expires_in"] > most:
            raise ValidationError(f"Must be at most {most} seconds.", "expires_in")


class DepositSchema(MovementSchema):
    TYPE, DEBIT, CREDIT = TransactionType.DEPOSIT, "provider_id", "user_id"

    user_id = domain.user_id(required=True)
    provider_id = domain.user_id(load_default=DEPOSIT_PROVIDER, metadata={"example": DEPOSIT_PROVIDER})


class WithdrawSchema(HoldSchema):
    TYPE, DEBIT, CREDIT = TransactionType.WITHDRAW, "user_id", "provider_id"

    user_id = domain.user_id(required=True)
    provider_id = domain.user_id(load_default=WITHDRAW_PROVIDER, metadata={"example": WITHDRAW_PROVIDER})


class TransferSchema(HoldSchema):
    TYPE, DEBIT, CREDIT = TransactionType.TRANSFER, "from_user_id", "to_user_id"

    from_user_id = domain.user_id(required=True)
    to_user_id = domain.user_id(required=True, metadata={"example": "test-user-2"})


MOVEMENT_SCHEMAS = (DepositSchema, WithdrawSchema, TransferSchema)
# The body field holding each side of each movement, to name it when its wallet does not exist.
SIDES = {schema.TYPE: (schema.DEBIT, schema.CREDIT) for schema in MOVEMENT_SCHEMAS}


ITEM_KEY = "1-255 printable ASCII characters; without one, derived from the Idempotency-Key header, if any"


class BatchDepositSchema(DepositSchema):
    type = fields.String(required=True, validate=validate.Equal(TransactionType.DEPOSIT))
    idempotency_key = headers.idempotency_key(ITEM_KEY)


class BatchWithdrawSchema(WithdrawSchema):
    type = fields.String(required=True, validate=validate.Equal(TransactionType.WITHDRAW))
    idempotency_key = headers.idempotency_key(ITEM_KEY)


class BatchTransferSchema(TransferSchema):
    type = fields.String(required=True, validate=validate.Equal(TransactionType.TRANSFER))
    idempotency_key = headers.idempotency_key(ITEM_KEY)


class PlainMovement:
    """The common movement read without marshmallow: two wallets, an amount, perhaps a currency,
    and in a batch item its type and key.

    Loading a thousand batch items through their schemas was half the API's CPU for a batch, and
    loading a single request's body a thirtieth of its. Everything this accepts, its schema loads
    into the same request (a test holds the two together over generated bodies and items);
    anything else, including everything invalid, goes to the schema, which loads it or refuses it
    with its own messages.
    """

    USER_ID = re.compile(USER_ID_PATTERN)
    CURRENCY = re.compile(domain.CURRENCY_PATTERN)
    KEY = re.compile(headers.IDEMPOTENCY_KEY_PATTERN)

    def __init__(self, schema: MovementSchema) -> None:
        self.type = schema.TYPE
        self.debit, self.credit = schema.DEBIT, schema.CREDIT
        self.defaults = {name: schema.fields[name].load_default for name in (self.debit, self.credit)}
        # A single request's body has neither a type (its route says it) nor a key (its header does).
        named_here = {"type", "idempotency_key"} & schema.fields.keys()
        self.keys = {"amount", "currency", self.debit, self.credit} | named_here

    def read(self, value: dict) -> TransactionRequest | None:
        """The request ``value`` asks for, or None to leave it to the schema."""
        if not value.keys() <= self.keys or ("type" in self.keys and value.get("type") != self.type):
            return None
        amount = value.get("amount")
        debit = value.get(self.debit, self.defaults[self.debit])
        credit = value.get(self.credit, self.defaults[self.credit])
        if (
            type(amount) is not int
            or not 1 <= amount <= MAX_AMOUNT
            or not _matches(self.USER_ID, debit)
            or not _matches(self.USER_ID, credit)
            or debit == credit
            or ("currency" in value and not _matches(self.CURRENCY, value["currency"]))
            or ("idempotency_key" in value and not self._key(value["idempotency_key"]))
        ):
            return None
        return TransactionRequest(self.type, debit, credit, amount, value.get("currency"), value.get("idempotency_key"))

    def _key(self, value: object) -> bool:
        return _matches(self.KEY, value) and 0 < len(value) <= headers.IDEMPOTENCY_KEY_MAX


def _matches(pattern: re.Pattern, value: object) -> bool:
    """A string ``pattern`` matches; a missing field's default (marshmallow's ``missing``) is not one."""
    return type(value) is str and pattern.match(value) is not None


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
        kind = value.get("type")
        # Only a string can name a schema; {} or [] would not even be hashable.
        schema = self.schemas.get(kind) if isinstance(kind, str) else None
        if schema is None:
            raise ValidationError({"type": [f"Must be one of: {', '.join(self.schemas)}."]})
        return schema.load(value)


class BatchSchema(Schema):
    transactions = BoundedList(BatchItem(), config_key="API_MAX_BATCH_ITEMS", required=True)


class BatchResultSchema(Schema):
    transactions = fields.List(fields.Nested(TransactionSchema), metadata={"description": "In request order"})
