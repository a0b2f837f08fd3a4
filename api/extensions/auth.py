"""Who is calling: the API key of a request, its client, and whether it may call this route.

Every route but the public ones (health, readiness, the docs) names the scope it needs with
``@blp.requires(scope)``. A request to such a route without a live key is a 401, with a key
lacking the scope a 403; neither reaches the route, so neither changes anything.

Keys are looked up in PostgreSQL on the request's own connection and kept for
``API_KEY_CACHE_SECONDS`` by each API process, answers "no such key" included (a flood of wrong
keys costs the database one query per key per period, not one per request). A revoked key
therefore works for at most that long after ``make revoke-api-key``.
"""

import time
from collections.abc import Callable

from flask import Flask, current_app, g, request

from api.extensions.database import db_connection
from api.extensions.problems import Problem
from ledger.clients import ApiKey, find_key, well_formed
from ledger.enums import Scope

# Sent with every 401 (RFC 6750): the scheme, and why the key was refused.
CHALLENGE = 'Bearer realm="wallet"'
# Entries the cache holds at most; past that it starts again empty (wrong keys cannot fill memory).
CACHE_ENTRIES = 10_000
_UNRESOLVED = object()


class KeyCache:
    """Presented key → its ``ApiKey`` (or None: no live key), for ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, ApiKey | None]] = {}

    def resolve(self, presented: str, lookup: Callable[[str], ApiKey | None]) -> ApiKey | None:
        now = time.monotonic()
        entry = self._entries.get(presented)
        if entry is not None and entry[0] > now:
            return entry[1]
        key = lookup(presented)
        if len(self._entries) >= CACHE_ENTRIES:
            self._entries.clear()
        self._entries[presented] = (now + self.ttl, key)
        return key


def init_auth(app: Flask) -> None:
    """Check each request's key and scope; after the rate limiter, so refused requests are counted too."""
    app.extensions["api_keys"] = KeyCache(app.config["API_KEY_CACHE_SECONDS"])
    app.before_request(_check_key)


def requires(scope: Scope) -> Callable[[Callable], Callable]:
    """Mark a view as needing a key with ``scope`` (``Blueprint.requires`` also documents it)."""

    def decorator(view: Callable) -> Callable:
        view.required_scope = scope
        return view

    return decorator


def required_scope() -> Scope | None:
    """The scope the current request's route needs; None for a public route or no route at all."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "required_scope", None)


def caller() -> ApiKey | None:
    """The live key the current request presents, or None; resolved once per request."""
    key = g.get("api_key", _UNRESOLVED)
    if key is _UNRESOLVED:
        key = g.api_key = _presented_key()
    return key


def client_id() -> str:
    """The calling client: only inside a route that requires a scope, where a key is guaranteed."""
    return g.api_key.client_id


def _presented_key() -> ApiKey | None:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return None
    cache: KeyCache = current_app.extensions["api_keys"]
    return cache.resolve(presented.strip(), _lookup)


def _lookup(presented: str) -> ApiKey | None:
    return find_key(db_connection(), presented) if well_formed(presented) else None


def _check_key() -> None:
    scope = required_scope()
    if scope is None:
        return
    key = caller()
    if key is None:
        presented = "Authorization" in request.headers
        raise Problem(
            401,
            "invalid_api_key" if presented else "missing_api_key",
            "the API key is malformed, unknown or revoked"
            if presented
            else "this route needs an API key: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": CHALLENGE + (', error="invalid_token"' if presented else "")},
        )
    if scope not in key.scopes:
        raise Problem(
            403,
            "insufficient_scope",
            f"this route needs the scope {scope}; the key has {', '.join(key.scopes)}",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="insufficient_scope", scope="{scope}"'},
        )
