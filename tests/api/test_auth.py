"""API keys: every route but the public ones refuses a request without a live key holding its
scope, before it changes anything; keys are stored hashed and stop working soon after a revoke."""

import os
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from api import close_app, create_app
from ledger.clients import list_keys, revoke_key
from ledger.enums import Scope
from tests.api.problems import assert_problem
from tests.conftest import TEST_CLIENT, with_key
from webhooks.endpoints import register_endpoint

# A key's shape, from no key the database ever held.
UNKNOWN_KEY = "wk_unknown0_" + "A" * 43
PUBLIC = {"/health", "/ready", "/openapi.json", "/docs", "/docs/assets/<path:filename>", "/static/<path:filename>"}
# Every route that needs a key: (method, path, body, scope). {tx} and {hook} are filled in.
ROUTES = [
    ("post", "/users", {"user_id": "zed", "acnt_type": "user"}, Scope.WALLETS_WRITE),
    ("get", "/wallets/alice", None, Scope.WALLETS_READ),
    ("get", "/wallets/alice/transactions", None, Scope.WALLETS_READ),
    ("get", "/wallets/alice/statement", None, Scope.WALLETS_READ),
    ("post", "/wallets/deposit", {"user_id": "alice", "amount": 5}, Scope.TRANSACTIONS_WRITE),
    ("post", "/wallets/withdraw", {"user_id": "alice", "amount": 5}, Scope.TRANSACTIONS_WRITE),
    (
        "post",
        "/wallets/transfer",
        {"from_user_id": "alice", "to_user_id": "bob", "amount": 5},
        Scope.TRANSACTIONS_WRITE,
    ),
    (
        "post",
        "/transactions/batch",
        {"transactions": [{"type": "deposit", "user_id": "alice", "amount": 5}]},
        Scope.TRANSACTIONS_WRITE,
    ),
    ("get", "/transactions/{tx}", None, Scope.TRANSACTIONS_READ),
    ("post", "/transactions/{tx}/capture", {"amount": 5}, Scope.TRANSACTIONS_WRITE),
    ("post", "/transactions/{tx}/void", {}, Scope.TRANSACTIONS_WRITE),
    ("post", "/transactions/{tx}/reverse", {"amount": 5}, Scope.TRANSACTIONS_WRITE),
    ("get", "/transactions", None, Scope.TRANSACTIONS_READ),
    ("post", "/webhooks", {"url": "https://hooks.example/in"}, Scope.WEBHOOKS_MANAGE),
    ("get", "/webhooks", None, Scope.WEBHOOKS_MANAGE),
    ("get", "/webhooks/{hook}", None, Scope.WEBHOOKS_MANAGE),
    ("delete", "/webhooks/{hook}", None, Scope.WEBHOOKS_MANAGE),
    ("get", "/webhooks/{hook}/deliveries", None, Scope.WEBHOOKS_MANAGE),
    ("get", "/metrics", None, Scope.METRICS_READ),
]


@pytest.fixture
def ids(client: FlaskClient, make_wallet, session) -> dict[str, str]:
    """alice and bob, a transaction and a webhook endpoint of the tests' client, to aim requests at."""
    make_wallet("alice")
    make_wallet("bob")
    deposit = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 100})
    endpoint = register_endpoint(session, TEST_CLIENT, "http://127.0.0.1:9/hook")
    session.commit()
    return {"tx": deposit.get_json()["id"], "hook": str(endpoint.id)}


@pytest.fixture
def state(engine: Engine) -> Callable[[], tuple]:
    """Everything a refused request could have changed, in one row."""

    def read() -> tuple:
        with engine.connect() as conn:
            return tuple(
                conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM wallets), (SELECT count(*) FROM transactions),"
                        " (SELECT count(*) FROM webhook_endpoints), (SELECT count(*) FROM api_keys),"
                        " (SELECT sum(abs(balance)) FROM wallets)"
                    )
                ).one()
            )

    return read


def _send(client: FlaskClient, method: str, path: str, body: dict | None, headers: dict | None = None):
    return getattr(client, method)(path, json=body, headers=headers or {})


def test_every_route_but_the_public_ones_needs_a_key(app: Flask) -> None:
    rules = {rule.rule for rule in app.url_map.iter_rules()} - PUBLIC
    tested = {path.replace("{tx}", "<uuid:transaction_id>") for _, path, _, _ in ROUTES}
    tested = {p.replace("{hook}", "<uuid:endpoint_id>").replace("alice", "<user_id:user_id>") for p in tested}
    assert rules == tested
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        assert (getattr(view, "required_scope", None) is None) == (rule.rule in PUBLIC), rule.rule


@pytest.mark.parametrize(("method", "path", "body", "scope"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_a_route_refuses_any_key_but_a_live_one_with_its_scope(
    app: Flask, ids, state, make_key, session, method, path, body, scope
) -> None:
    path = path.format(**ids)
    revoked = make_key(TEST_CLIENT)
    revoke_key(session, revoked[:11])
    session.commit()
    lacking = make_key(TEST_CLIENT, scopes=[s for s in Scope if s != scope])
    anonymous = app.test_client()
    before = state()

    missing = assert_problem(_send(anonymous, method, path, body), 401, "missing_api_key")
    assert "Authorization: Bearer" in missing["detail"]
    for header in (f"Bearer {UNKNOWN_KEY}", f"Bearer {revoked}", "Bearer nope", f"Basic {UNKNOWN_KEY}", "Bearer"):
        response = _send(anonymous, method, path, body, {"Authorization": header})
        assert_problem(response, 401, "invalid_api_key")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="wallet", error="invalid_token"'
    response = _send(with_key(app.test_client(), lacking), method, path, body)
    assert scope in assert_problem(response, 403, "insufficient_scope")["detail"]
    assert f'scope="{scope}"' in response.headers["WWW-Authenticate"]

    assert state() == before


def test_public_routes_need_no_key(app: Flask) -> None:
    anonymous = app.test_client()
    for path in ("/health", "/openapi.json", "/docs"):
        assert anonymous.get(path).status_code == 200, path
    # No worker runs here: not ready, but not a 401 either.
    assert anonymous.get("/ready").status_code == 503


def test_the_spec_declares_bearer_security_on_the_routes_that_need_it(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["apiKey"]["description"],
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            public = path in {"/health", "/ready"}
            assert ("security" in operation) != public, (method, path)
            if not public:
                assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)


def test_keys_are_random_prefixed_and_stored_only_hashed(make_key, session, engine: Engine) -> None:
    keys = [make_key("acme") for _ in range(3)]
    assert len(set(keys)) == 3
    for key in keys:
        prefix, secret = key[:11], key[12:]
        assert prefix.startswith("wk_") and key[11] == "_"
        # 43 characters of base64url: 256 random bits.
        assert len(secret) == 43
    assert [k.client_id for k in list_keys(session, "acme")] == ["acme"] * 3
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        everything = "".join(
            row for table in tables for row in conn.execute(text(f"SELECT CAST(t AS text) FROM {table} t")).scalars()
        )
    for key in keys:
        assert key not in everything and key[12:] not in everything
        assert key[:11] in everything


def test_a_revoked_key_stops_within_the_cache_period(clean_db, clean_redis, database_url, make_key, session) -> None:
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": os.environ["REDIS_URL"], "API_KEY_CACHE_SECONDS": 0.5})
    key = make_key(TEST_CLIENT)
    client = with_key(app.test_client(), key)
    try:
        assert client.get("/transactions").status_code == 200
        revoke_key(session, key[:11])
        session.commit()
        # Cached for 0.5 s: it may answer a little longer, never past that (with a margin for a slow machine).
        deadline = time.monotonic() + 0.5 + 0.5
        while client.get("/transactions").status_code == 200:
            assert time.monotonic() < deadline, "the revoked key still works after the cache period"
            time.sleep(0.05)
        assert_problem(client.get("/transactions"), 401, "invalid_api_key")
    finally:
        close_app(app)
