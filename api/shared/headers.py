"""Request headers several routes read: ``Idempotency-Key`` and ``Prefer``."""

from marshmallow import fields, validate

from api.extensions.smorest import Schema

IDEMPOTENCY_KEY_LENGTH = validate.Length(min=1, max=255)


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
            " rejected (200), at most N seconds (then 202). When too many requests are held already, answered at"
            " once without Preference-Applied. Other preferences are ignored.",
            "example": "wait=10",
        },
    )


class MovementHeadersSchema(IdempotencyHeaderSchema, PreferHeaderSchema):
    pass
