"""Request headers several routes read: ``Idempotency-Key`` and ``Prefer``."""

from marshmallow import fields, validate

from api.extensions.smorest import Schema

# Printable ASCII, space to tilde: a header's other bytes reach the app as latin-1 guesses (and
# control characters never do, RFC 9110), so a key must mean the same in a header and in a body.
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_KEY_PATTERN = r"[ -~]*\Z"
IDEMPOTENCY_KEY_RULES = (
    validate.Length(min=1, max=IDEMPOTENCY_KEY_MAX),
    validate.Regexp(IDEMPOTENCY_KEY_PATTERN, error="Must be printable ASCII characters (space to ~)."),
)
IDEMPOTENCY_KEY_SPEC = {"pattern": "^[ -~]{1,255}$"}


def idempotency_key(description: str, **kwargs) -> fields.String:
    return fields.String(
        validate=IDEMPOTENCY_KEY_RULES, metadata={"description": description, **IDEMPOTENCY_KEY_SPEC}, **kwargs
    )


class IdempotencyHeaderSchema(Schema):
    idempotency_key = idempotency_key(
        "1-255 printable ASCII characters. Same key and body: the original transaction, not a new one.",
        data_key="Idempotency-Key",
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
