"""Everything that customises flask-smorest, in one place: Api, Blueprint, base Schema, errors.

Every error leaves as an RFC 9457 problem (``application/problem+json``) with a stable machine
``code``: validation errors are 400 (not webargs' 422), a database that cannot be reached is 503
with ``Retry-After`` (never 500), and an unexpected exception is a 500 that shows nothing of its
cause; the cause goes to the log.
"""

import functools
import http
import json
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import flask_smorest
import marshmallow as ma
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Response, current_app, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ledger.errors import LedgerError

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Seconds a client is asked to wait before retrying when PostgreSQL cannot be reached.
RETRY_AFTER_SECONDS = 2
LEDGER_ERROR_STATUS = {
    "wallet_not_found": 404,
    "wallet_exists": 409,
    "idempotency_key_reused": 409,
}
# Stable codes for the HTTP errors raised by Flask and Werkzeug themselves.
HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
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


def problem_response(
    status: int, code: str, detail: str, *, errors: dict | None = None, headers: dict[str, str] | None = None
) -> Response:
    body = {
        # A URN: stable and unique per code, without promising a page that does not exist.
        "type": f"urn:wallet:problem:{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.update(headers or {})
    return response


class Parser(FlaskParser):
    """webargs parser answering 400, refusing unknown query parameters, and 415 for non-JSON bodies."""

    DEFAULT_VALIDATION_STATUS = 400
    # None defers to the schema (RAISE in the base Schema below); headers keep EXCLUDE, since
    # every request carries headers no schema names.
    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict[str, str | None]] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "querystring": None,
        "query": None,
    }

    def _raw_load_json(self, req) -> Any:
        if not is_json_request(req):
            raise Problem(415, "unsupported_media_type", "the request body must be application/json")
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        try:
            return json.loads(data)
        # ValueError covers bad JSON and integers too long to convert; RecursionError, deep nesting.
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Problem(400, "malformed_json", "the request body is not valid JSON") from None


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()


def max_body(config_key: str) -> Callable[[Callable], Callable]:
    """Let one route read a body larger than MAX_CONTENT_LENGTH (the limit is per request since Flask 3.1).

    Goes between ``@blp.route`` and ``@blp.arguments``, so the limit is set before the body is read.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def limited(*args, **kwargs):
            request.max_content_length = current_app.config[config_key]
            return view(*args, **kwargs)

        return limited

    return decorator


class Schema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class ProblemSchema(Schema):
    """RFC 9457 problem details; documents the error answers, which are built by problem_response."""

    type = ma.fields.String(metadata={"description": "URN naming the kind of problem"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String(metadata={"description": "What went wrong with this request"})
    code = ma.fields.String(metadata={"description": "Stable machine-readable code (see docs/api.md)"})
    errors = ma.fields.Dict(metadata={"description": "Per-field messages, for validation errors"})


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """As flask-smorest does, but the error responses are documented as problem+json."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            content_type = PROBLEM_CONTENT_TYPE if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE
            flask_smorest.utils.prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        flask_smorest.utils.prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_error_handlers(self) -> None:
        super()._register_error_handlers()
        self._app.register_error_handler(Problem, handle_problem)
        self._app.register_error_handler(LedgerError, handle_ledger_error)
        self._app.register_error_handler(DBAPIError, handle_database_error)
        self._app.register_error_handler(PoolTimeout, handle_database_error)
        self._app.register_error_handler(Exception, handle_unexpected_error)

    def handle_http_exception(self, error: HTTPException) -> Response:
        data = getattr(error, "data", None) or {}
        if "messages" in data:  # a webargs validation error
            errors = _without_location(data["messages"])
            fields = ", ".join(sorted(str(name) for name in errors)) if isinstance(errors, dict) else ""
            return problem_response(
                400,
                "validation_failed",
                f"invalid request fields: {fields}",
                errors=errors,
                headers=data.get("headers"),
            )
        headers = {}
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        code = HTTP_ERROR_CODES.get(error.code, error.name.lower().replace(" ", "_"))
        return problem_response(error.code, code, error.description, headers=headers)


def handle_problem(error: Problem) -> Response:
    return problem_response(error.status, error.code, error.detail, errors=error.errors, headers=error.headers)


def handle_ledger_error(error: LedgerError) -> Response:
    return problem_response(LEDGER_ERROR_STATUS.get(error.code, 400), error.code, error.detail)


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
    return problem_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def _without_location(messages: dict) -> Any:
    """webargs keys errors by location ({"json": {...}}); a request has one failing location."""
    if len(messages) == 1:
        return next(iter(messages.values()))
    return messages


def document_one_of(converter: OpenAPIConverter, field: ma.fields.Field, **kwargs) -> dict:
    """apispec attribute function: a field with ``one_of`` schemas is documented as their oneOf."""
    schemas = getattr(field, "one_of", None)
    if not schemas:
        return {}
    return {"oneOf": [converter.resolve_nested_schema(schema) for schema in schemas]}
