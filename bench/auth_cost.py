"""What authentication and rate limiting add to a request, in CPU: the number the issue caps at 0.2 ms.

Two routes that do nothing are added to an app of the bench's database and Redis, alike but for one
thing: one needs a scope, so its requests go through the key check (the key cache, as in production)
and the limiter (a Redis round trip per block: with the bench's busy-client key, one request in
100); the other is public, so they skip both. Both are on a blueprint, as every route of the API is,
so flask-limiter resolves a blueprint's limits and exemptions for them as it does for a real route.
The same client sends the same Authorization header to each, in alternating rounds; the difference
in CPU per request, by role, is what the two add. The app runs in this process (role ``loadgen``,
which holds the test client's own cost, equal on both sides and so cancelled).
"""

import statistics

from flask import Blueprint, Flask

from api import close_app, create_app
from api.extensions.auth import requires
from bench.cpu import Roles
from ledger.enums import Scope

ROUNDS = 5
ROLES = ("loadgen", "redis", "postgres")


def _public() -> str:
    return ""


def _keyed() -> str:
    return ""


def auth_cost(database_url: str, database_name: str, redis_url: str, api_key: str, requests: int) -> dict:
    """CPU ms per request the key check and the limiter add, by role, and the requests measured."""
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    # Two functions: requires() marks the one it is given.
    routes = Blueprint("bench", __name__, url_prefix="/bench")
    routes.add_url_rule("/public", "public", _public)
    routes.add_url_rule("/keyed", "keyed", requires(Scope.WALLETS_READ)(_keyed))
    app.register_blueprint(routes)
    try:
        roles = Roles({}, {database_name})
        per_round = max(1, requests // ROUNDS)
        added: dict[str, list[float]] = {role: [] for role in ROLES}
        _spend(app, roles, "/bench/keyed", api_key, 50)
        for _ in range(ROUNDS):
            keyed = _spend(app, roles, "/bench/keyed", api_key, per_round)
            public = _spend(app, roles, "/bench/public", api_key, per_round)
            for role in ROLES:
                added[role].append((keyed.get(role, 0.0) - public.get(role, 0.0)) * 1000 / per_round)
    finally:
        close_app(app)
    medians = {role: round(statistics.median(values), 4) for role, values in added.items()}
    return {
        "requests": per_round * ROUNDS,
        "api_ms_per_request": medians["loadgen"],
        "redis_ms_per_request": medians["redis"],
        "postgres_ms_per_request": medians["postgres"],
    }


def _spend(app: Flask, roles: Roles, path: str, api_key: str, requests: int) -> dict[str, float]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_key}"}
    before = roles.sample()
    for _ in range(requests):
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)[:200]}")
    return roles.sample() - before
