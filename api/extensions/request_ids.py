"""The request id: the client's ``X-Request-ID`` (or a fresh one), on every log line and every answer.

Set before anything else runs for a request (the rate limiter, authentication) and sent back on
every answer, a 401, a 429 and a 500 included, so a client quoting the id of any answer finds its
lines. A header that is not a printable token of at most 128 characters is replaced, not echoed
(``observability.logs.request_id``).
"""

from flask import Flask, Response, g, request

from observability.logs import current_request_id, request_id

HEADER = "X-Request-ID"


def init_request_ids(app: Flask) -> None:
    """Register first in ``create_app``: hooks run in the order they were registered."""
    app.before_request(_begin)
    app.after_request(_answer)
    app.teardown_request(_end)


def _begin() -> None:
    g.request_id_token = current_request_id.set(request_id(request.headers.get(HEADER)))


def _answer(response: Response) -> Response:
    response.headers[HEADER] = current_request_id.get()
    return response


def _end(_: BaseException | None) -> None:
    # The thread serves other requests next: none of them may log under this one's id.
    token = g.pop("request_id_token", None)
    if token is not None:
        current_request_id.reset(token)
