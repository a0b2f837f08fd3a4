"""Every error answer is an RFC 9457 problem (``application/problem+json``) with a stable ``code``.

Domain errors are mapped to HTTP here, once, by class (``STATUS_BY_ERROR``). A domain error whose
class is not in the table is a bug: it is logged and answered 500, and a test walks every
subclass of ``LedgerError`` to catch it before a client does. A database that cannot be reached is
503 with ``Retry-After`` (never 500), and an unexpected exception is a 500 that shows nothing of
its cause; the cause goes to the log.
"""

import json
import logging

from flask import Response, current_app
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ledger.errors import Conflict, InvalidRequest, LedgerError, NotFound

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Seconds a client is asked to wait before retrying when PostgreSQL cannot be reached.
RETRY_AFTER_SECONDS = 2
UNEXPECTED = "an unexpected error occurred; it has been logged"
STATUS_BY_ERROR: dict[type[LedgerError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidRequest: 400,
}


class Problem(Exception):
    """An error answer decided by the application: raise it anywhere in a request."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.headers = errors, headers or {}


def problem(status: int, code: str, detail: str) -> dict:
    """The body of every error answer, the app's and gunicorn's own (``api.gunicorn_problems``)."""
    return {
        # A URN: stable and unique per code, without promising a page that does not exist.
        "type": f"urn:wallet:problem:{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
    }


def problem_response(
    status: int, code: str, detail: str, *, errors: dict | None = None, headers: dict[str, str] | None = None
) -> Response:
    body = problem(status, code, detail)
    if errors is not None:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.update(headers or {})
    return response


def status_of(error: type[LedgerError]) -> int | None:
    """The HTTP status of a domain error class, from the nearest mapped base class; None if unmapped."""
    for cls in error.__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return None


def handle_problem(error: Problem) -> Response:
    return problem_response(error.status, error.code, error.detail, errors=error.errors, headers=error.headers)


def handle_ledger_error(error: LedgerError) -> Response:
    status = status_of(type(error))
    if status is None:
        return handle_unexpected_error(error)
    return problem_response(status, error.code, error.detail)


def handle_database_error(error: Exception) -> Response:
    unreachable = isinstance(error, OperationalError | InterfaceError | PoolTimeout) or getattr(
        error, "connection_invalidated", False
    )
    if not unreachable:
        return handle_unexpected_error(error)
    log.warning("database unavailable: %s", error.__class__.__name__, exc_info=True)
    return problem_response(
        503,
        "database_unavailable",
        "the database cannot be reached; retry later",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def handle_unexpected_error(error: Exception) -> Response:
    log.exception("unexpected error", exc_info=error)
    return problem_response(500, "internal_error", UNEXPECTED)
