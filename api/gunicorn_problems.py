"""gunicorn's own error answers, as problem+json like every other answer of the API.

gunicorn refuses some requests before the app sees them: a header value with control characters
(RFC 9110 forbids them), a header line over ``limit_request_field_size``, a request line over
``limit_request_line``, more than ``limit_request_fields`` headers, a malformed request line or
chunk. It answers those itself, in HTML. ``gunicorn_conf.post_worker_init`` swaps its one writer
of such answers (``gunicorn.util.write_error``, called by the worker's ``handle_error``) for
``write_problem``: gunicorn still decides the status and logs the refusal; only the body changes.
"""

import json
import socket

from gunicorn import util

from api.extensions.problems import PROBLEM_CONTENT_TYPE, UNEXPECTED, problem

# The codes of the statuses gunicorn answers by itself (gunicorn.workers.base.Worker.handle_error).
CODES = {
    400: "bad_request",
    403: "forbidden",
    414: "request_line_too_long",
    417: "expectation_failed",
    431: "header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
}


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for ``gunicorn.util.write_error`` (same arguments): the same answer as problem+json."""
    code = CODES.get(status_int, reason.lower().replace(" ", "_"))
    detail = UNEXPECTED if status_int == 500 else (mesg or reason)
    body = json.dumps(problem(status_int, code, detail)).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {PROBLEM_CONTENT_TYPE}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    util.write_error = write_problem
