"""Everything that customises flask-smorest, in one place: Api, Blueprint, base Schema, parser.

Validation errors are 400 problems (not webargs' 422); the error answers themselves are built in
``api.extensions.problems``.
"""

import functools
import http
import json
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import flask_smorest
import marshmallow as ma
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Request, Response, current_app, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from api.extensions.auth import requires
from api.extensions.problems import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    handle_database_error,
    handle_ledger_error,
    handle_problem,
    handle_unexpected_error,
    problem_response,
)
from api.extensions.storable import may_hold_unstorable_text, unstorable_text
from ledger.enums import Scope
from ledger.errors import LedgerError

# Stable codes for the HTTP errors raised by Flask and Werkzeug themselves.
HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


# The OpenAPI security scheme of every route that needs a key: Swagger UI's Authorize button.
BEARER_SCHEME = "apiKey"
BEARER_SECURITY = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key (wk_...) from `make api-key`: Authorization: Bearer <key>. See docs/api.md.",
}


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
        data = req.get_data(cache=True)
        _refuse_truncated(req, data)
        # No body is no body, whatever its type: POST /transactions/{id}/void needs none.
        if not data:
            return core.missing
        if not is_json_request(req):
            raise Problem(415, "unsupported_media_type", "the request body must be application/json")
        try:
            body = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
        # ValueError covers bad JSON and integers too long to convert; RecursionError, deep nesting.
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Problem(400, "malformed_json", "the request body is not valid JSON") from None
        errors = unstorable_text(body) if may_hold_unstorable_text(data) else None
        if errors:
            raise Problem(400, "validation_failed", f"invalid request fields: {_names(errors)}", errors=errors)
        return body


def _refuse_truncated(req: Request, data: bytes) -> None:
    """413 for a chunked body longer than ``max_content_length``, as for a Content-Length one.

    Without a Content-Length, werkzeug reads up to the limit and stops there without a word: a
    valid JSON document followed by megabytes of spaces would be accepted. One more byte from the
    server's own stream (gunicorn ends it where the chunked body ends) says whether it went on.
    """
    limit = req.max_content_length
    if req.content_length is None and limit is not None and len(data) >= limit and req.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


def _refuse_constant(name: str) -> None:
    """NaN and Infinity are not JSON (RFC 8259), and PostgreSQL's jsonb refuses them."""
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    """1e400 is JSON, but as a float it is infinity, which jsonb refuses: not a number we can keep."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def _names(errors: dict) -> str:
    return ", ".join(sorted(str(name) for name in errors))


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def alt_response(self, *args, **kwargs) -> Callable[[Callable], Callable]:
        """As flask-smorest's, documented on the view itself (``in_place``)."""
        return in_place(super().alt_response(*args, **kwargs))

    @staticmethod
    def doc(**kwargs) -> Callable[[Callable], Callable]:
        """As flask-smorest's, documented on the view itself (``in_place``)."""
        return in_place(flask_smorest.Blueprint.doc(**kwargs))

    def arguments(self, schema: type[ma.Schema] | ma.Schema, *args, **kwargs) -> Callable:
        """As flask-smorest's, but a schema class is instantiated once, here: given a class, webargs
        builds a new instance for every request (a fifth of a money route's CPU)."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def requires(self, scope: Scope) -> Callable[[Callable], Callable]:
        """This route needs an API key with ``scope`` (``api.extensions.auth`` checks it, the
        limiter counts it); documented as bearer security with its 401, 403 and 429 answers."""

        def decorator(view: Callable) -> Callable:
            view = requires(scope)(view)
            view = self.doc(security=[{BEARER_SCHEME: []}])(view)
            view = self.problem(401, "missing_api_key, invalid_api_key: no live API key; see WWW-Authenticate")(view)
            view = self.problem(403, f"insufficient_scope: the key does not have {scope}")(view)
            return self.problem(429, "rate_limited: over the key's rate limit (Retry-After says when to retry)")(view)

        return decorator

    def problem(self, status: int, description: str) -> Callable[[Callable], Callable]:
        """Document an error answer of one route: problem+json, and when this route gives it.

        Not for 400, which every route with arguments documents already (flask-smorest's own).
        """
        return self.alt_response(
            status, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description=description
        )


def in_place(document: Callable[[Callable], Callable]) -> Callable[[Callable], Callable]:
    """Apply a flask-smorest decorator that only documents, keeping its doc and dropping its wrapper.

    flask-smorest wraps the view once per ``alt_response`` and ``doc``, and each wrapper only calls
    the next through ``current_app.ensure_sync``: a money route carries nine of them, about a
    fortieth of its CPU on every request, for documentation read once. The doc is what the
    wrapper holds in ``_apidoc`` (a copy of the view's, with this decorator's part added), so it is
    put on the view, and the view is returned unwrapped.
    """

    def decorator(view: Callable) -> Callable:
        view._apidoc = document(view)._apidoc
        return view

    return decorator


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


class BoundedList(ma.fields.List):
    """A List whose most items is a setting (``config_key``), refused before any item is loaded."""

    def __init__(self, inner: ma.fields.Field, *, config_key: str, **kwargs) -> None:
        super().__init__(inner, validate=ma.validate.Length(min=1), **kwargs)
        self.config_key = config_key

    def _deserialize(self, value, attr, data, **kwargs):
        most = current_app.config[self.config_key]
        if isinstance(value, list) and len(value) > most:
            raise ma.ValidationError(f"Must hold at most {most} items.")
        return super()._deserialize(value, attr, data, **kwargs)


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
            fields = _names(errors) if isinstance(errors, dict) else ""
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


def _without_location(messages: dict) -> Any:
    """webargs keys errors by location ({"json": {...}}); a request has one failing location."""
    if len(messages) == 1:
        return next(iter(messages.values()))
    return messages


def document_bounds(config: Mapping[str, Any]) -> Callable[..., dict]:
    """apispec attribute function documenting each BoundedList's ``maxItems`` from this app's config."""

    def attribute(converter: OpenAPIConverter, field: ma.fields.Field, **kwargs) -> dict:
        return {"maxItems": config[field.config_key]} if isinstance(field, BoundedList) else {}

    return attribute


def document_one_of(converter: OpenAPIConverter, field: ma.fields.Field, **kwargs) -> dict:
    """apispec attribute function: a field with ``one_of`` schemas is documented as their oneOf."""
    schemas = getattr(field, "one_of", None)
    if not schemas:
        return {}
    return {"oneOf": [converter.resolve_nested_schema(schema) for schema in schemas]}
