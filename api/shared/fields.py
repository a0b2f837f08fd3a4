"""marshmallow fields for the domain's values, with the same rules the database enforces.

Patterns end in ``\\Z``, not ``$``: Python's ``$`` also matches before a trailing newline, which
PostgreSQL's ``$`` does not, and a value the API lets through must never fail a CHECK constraint.
"""

from flask import current_app, g
from marshmallow import ValidationError, fields, validate
from werkzeug.routing import BaseConverter

from ledger.enums import MAX_AMOUNT, USER_ID_PATTERN
from webhooks.transport.urls import MAX_URL_LENGTH, URL_SPEC_PATTERN, UnsafeURL, check_url

CURRENCY_PATTERN = r"[A-Z]{3}\Z"
# The user_id rule as OpenAPI writes it (ECMA regex).
USER_ID_SPEC_PATTERN = "^[A-Za-z0-9._:-]{1,64}$"


def user_id(metadata: dict | None = None, **kwargs) -> fields.String:
    return fields.String(
        validate=validate.Regexp(USER_ID_PATTERN, error="Must be 1-64 characters of A-Z a-z 0-9 . _ : -"),
        metadata={"pattern": USER_ID_SPEC_PATTERN, "example": "test-user", **(metadata or {})},
        **kwargs,
    )


def amount(metadata: dict | None = None, **kwargs) -> fields.Integer:
    # strict: 10.5 and "10" are refused; marshmallow refuses booleans for every Integer.
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT),
        metadata={"description": "Integer number of cents, 0 < amount <= 10^15", "example": 10000, **(metadata or {})},
        **kwargs,
    )


class StrictBoolean(fields.Boolean):
    """true or false, nothing else: marshmallow's own takes 1, "yes", "on"... as true."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def currency(metadata: dict | None = None, **kwargs) -> fields.String:
    return fields.String(
        validate=validate.Regexp(CURRENCY_PATTERN, error="Must be an ISO 4217 code of three capital letters."),
        metadata={"pattern": "^[A-Z]{3}$", "example": "USD", **(metadata or {})},
        **kwargs,
    )


def safe_webhook_url(url: str) -> None:
    """Refuse a URL the wallet must not POST to (SSRF guard); the address check obeys WEBHOOK_ALLOW_PRIVATE."""
    # A batch may name the same callback a thousand times: resolve it once per request.
    checked = g.setdefault("safe_webhook_urls", set())
    if url in checked:
        return
    try:
        check_url(url, allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    except UnsafeURL as exc:
        raise ValidationError(f"Refused: {exc.detail}.") from None
    checked.add(url)


def safe_callback_url(url: str) -> None:
    """A callback_url is signed with the server secret: without one, refuse rather than send unsigned."""
    if not current_app.config["WEBHOOK_SECRET"]:
        raise ValidationError("This server has no WEBHOOK_SECRET configured, so it cannot sign callbacks.")
    safe_webhook_url(url)


# The spec says what check_url enforces, pattern and length (its address check depends on DNS, which
# no schema can say: the descriptions do).
URL_LENGTH = validate.Length(min=1, max=MAX_URL_LENGTH)
PUBLIC_HOSTS = "Its host must resolve to public addresses only."


def webhook_url(**kwargs) -> fields.String:
    return fields.String(
        validate=[URL_LENGTH, safe_webhook_url],
        metadata={"description": f"http(s) URL. {PUBLIC_HOSTS}", "pattern": URL_SPEC_PATTERN},
        **kwargs,
    )


def callback_url(**kwargs) -> fields.String:
    return fields.String(
        validate=[URL_LENGTH, safe_callback_url],
        metadata={
            "description": f"Receives the signed transaction.applied / transaction.rejected webhook. {PUBLIC_HOSTS}",
            "pattern": URL_SPEC_PATTERN,
        },
        **kwargs,
    )


class UserIdConverter(BaseConverter):
    """``<user_id:user_id>`` in a route: one path segment, documented with the user_id rule.

    It matches any segment, as the default converter does: a user_id outside the rule is a wallet
    that does not exist (404 ``wallet_not_found``, from ``get_wallet``), not a route that does not.
    """


def user_id_path_parameter(converter: UserIdConverter) -> dict:
    return {"type": "string", "pattern": USER_ID_SPEC_PATTERN, "example": "test-user"}
