"""marshmallow fields for the domain's values, with the same rules the database enforces.

Patterns end in ``\\Z``, not ``$``: Python's ``$`` also matches before a trailing newline, which
PostgreSQL's ``$`` does not, and a value the API lets through must never fail a CHECK constraint.
"""

from marshmallow import fields, validate

from ledger.models import MAX_AMOUNT

USER_ID_PATTERN = r"[A-Za-z0-9._:-]{1,64}\Z"
CURRENCY_PATTERN = r"[A-Z]{3}\Z"


def user_id(metadata: dict | None = None, **kwargs) -> fields.String:
    return fields.String(
        validate=validate.Regexp(USER_ID_PATTERN, error="Must be 1-64 characters of A-Z a-z 0-9 . _ : -"),
        metadata={"pattern": "^[A-Za-z0-9._:-]{1,64}$", "example": "test-user", **(metadata or {})},
        **kwargs,
    )


def amount(**kwargs) -> fields.Integer:
    # strict: 10.5 and "10" are refused; marshmallow refuses booleans for every Integer.
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT),
        metadata={"description": "Integer number of cents, 0 < amount <= 10^15", "example": 10000},
        **kwargs,
    )


def currency(metadata: dict | None = None, **kwargs) -> fields.String:
    return fields.String(
        validate=validate.Regexp(CURRENCY_PATTERN, error="Must be an ISO 4217 code of three capital letters."),
        metadata={"pattern": "^[A-Z]{3}$", "example": "USD", **(metadata or {})},
        **kwargs,
    )
