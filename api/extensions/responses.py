"""Answers whose body is JSON text PostgreSQL already wrote (``transaction_json``, ``wallet_json``).

Sent as they are: parsing them into Python objects only to serialise them again would cost the
API more than the database spent building them.
"""

from collections.abc import Iterable

from flask import Response, current_app


def json_text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return current_app.response_class(body, status=status, headers=headers, mimetype="application/json")


def json_array(items: Iterable[str]) -> str:
    return "[" + ",".join(items) + "]"
