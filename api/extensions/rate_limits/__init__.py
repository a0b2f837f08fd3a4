"""Rate limits (flask-limiter, counted in Redis): per API key, and per IP address for requests
that present no live key, over every route but the public ones.

A key's limit is the one stored with it (``make api-key RATE_LIMIT=...``), else ``API_RATE_LIMIT``.
Counting is a fixed window, reserved from Redis a block at a time (``reservations``): a busy key
costs a round trip per block, not per request. Over the limit is a 429 with ``Retry-After`` and the
``X-RateLimit-*`` headers; those are computed on the 429 only, so no other answer pays for them.

If Redis cannot be reached, limits fail open: flask-limiter logs one warning and switches to its
fallback limits, and ours exempts every request, so payments PostgreSQL would accept are never
refused because the limiter is broken. It asks Redis again after 1, 2, 4... seconds, and counts
again once Redis answers.
"""

import math
import time

from flask import Flask, Response, current_app, request
from flask_limiter import Limit, Limiter
from flask_limiter.constants import HeaderNames
from flask_limiter.errors import RateLimitExceeded
from redis import RedisError

from api.extensions.auth import caller, required_scope
from api.extensions.problems import problem_response
from api.extensions.rate_limits import reservations

# How long a request waits for Redis before the limiter gives up on it (and fails open).
STORAGE_TIMEOUT_SECONDS = 0.25


def init_rate_limits(app: Flask) -> Limiter:
    """Count every request to a route that needs a key; before authentication (``init_auth``)."""
    limiter = Limiter(
        key_func=_limited_as,
        application_limits=[_limit_of_caller],
        storage_uri=app.config["REDIS_URL"],
        storage_options={
            "socket_timeout": STORAGE_TIMEOUT_SECONDS,
            "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS,
        },
        strategy=reservations.NAME,
        headers_enabled=False,
        in_memory_fallback=[Limit("1/second", key_function=_limited_as, exempt_when=lambda: True)],
    )
    limiter.request_filter(lambda: required_scope() is None)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    return limiter


def _limited_as() -> str:
    key = caller()
    return f"key:{key.id}" if key is not None else f"ip:{request.remote_addr}"


def _limit_of_caller() -> str:
    key = caller()
    return key.rate_limit if key is not None and key.rate_limit else current_app.config["API_RATE_LIMIT"]


def _too_many_requests(error: RateLimitExceeded) -> Response:
    headers = {"Retry-After": "1"}
    limiter: Limiter = next(iter(current_app.extensions["limiter"]))
    limit = limiter.current_limit
    if limit is not None:
        try:
            reset, remaining = limit.window
        except RedisError:
            reset, remaining = time.time() + 1, 0
        headers = {
            HeaderNames.LIMIT.value: str(limit.limit.amount),
            HeaderNames.REMAINING.value: str(remaining),
            HeaderNames.RESET.value: str(math.ceil(reset)),
            "Retry-After": str(max(1, math.ceil(reset - time.time()))),
        }
    return problem_response(
        429,
        "rate_limited",
        f"over the rate limit of {error.description}; retry after {headers['Retry-After']}s",
        headers=headers,
    )
