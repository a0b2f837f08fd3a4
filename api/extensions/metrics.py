"""The API's own metrics: every request counted by route template and status, and timed.

Labelled by the matched URL rule (``/wallets/<user_id:user_id>``), never the raw path: a path holds
user ids and transaction ids, and a label per id would grow without bound. Requests matching no
route count as ``unmatched``, and methods outside HTTP's usual few as ``other``, for the same reason.
"""

import time
from collections import Counter
from collections.abc import Iterable

from flask import Flask, Response, g, request

from observability.metrics.api import HTTP_REQUEST_DURATION, HTTP_REQUESTS, TRANSACTIONS_ACCEPTED

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def init_metrics(app: Flask) -> None:
    """Time every request; registered before the limiter and the key check, so their refusals count too."""
    app.before_request(_start)
    app.after_request(_count)


def count_accepted(types: Iterable[str]) -> None:
    """Count transactions committed as queued, one per type given.

    Tallied first: a batch of 1,000 transfers is one increment (one locked write to the
    multiprocess file), not a thousand on the accept path.
    """
    for kind, count in Counter(types).items():
        TRANSACTIONS_ACCEPTED.labels(kind).inc(count)


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    method = request.method if request.method in METHODS else "other"
    HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        HTTP_REQUEST_DURATION.labels(route, method).observe(time.perf_counter() - started)
    return response
