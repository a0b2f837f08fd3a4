"""Liveness, readiness, and the OpenAPI document."""

import json
import os

import pytest

from api import close_app, create_app
from api.resources.wallets.schemas import WalletSchema
from api.shared.transactions import TransactionSchema
from ledger.queries import transaction_json, wallet_json
from tests.api.problems import assert_problem
from tests.conftest import TEST_CLIENT, with_key


def test_health(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_ready_names_the_workers_when_none_runs(client) -> None:
    problem = assert_problem(client.get("/ready"), 503, "not_ready")
    assert list(problem["errors"]) == ["workers"]


def test_a_bare_postgresql_url_is_served_by_the_shipped_driver(
    clean_db, clean_redis, bare_database_url, api_key
) -> None:
    app = create_app({"DATABASE_URL": bare_database_url, "REDIS_URL": os.environ["REDIS_URL"]})
    client = with_key(app.test_client(), api_key)
    response = client.post("/users", json={"user_id": "alice", "acnt_type": "user"})
    close_app(app)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["user_id"] == "alice"


def test_ready_names_the_database_when_it_is_down(clean_redis) -> None:
    app = create_app({"DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:1/wallet"})
    response = app.test_client().get("/ready")
    close_app(app)
    problem = assert_problem(response, 503, "not_ready")
    assert "database" in problem["errors"]
    assert response.headers["Retry-After"]


def test_ready_names_redis_when_it_is_down(clean_db, database_url) -> None:
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().get("/ready")
    close_app(app)
    problem = assert_problem(response, 503, "not_ready")
    assert set(problem["errors"]) == {"redis", "workers"}


def test_ready_with_a_worker_running(client, ledger_workers) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"


def test_openapi_document_lists_every_route(client) -> None:
    spec = client.get("/openapi.json").get_json()
    assert {
        "/users",
        "/wallets/{user_id}",
        "/wallets/{user_id}/transactions",
        "/wallets/{user_id}/statement",
        "/wallets/deposit",
        "/wallets/withdraw",
        "/wallets/transfer",
        "/transactions",
        "/transactions/{transaction_id}",
        "/transactions/batch",
        "/health",
        "/ready",
    } <= set(spec["paths"])
    deposit = spec["paths"]["/wallets/deposit"]["post"]
    assert {p["name"] for p in deposit["parameters"]} == {"Idempotency-Key", "Prefer"}
    assert "application/problem+json" in spec["components"]["responses"]["BAD_REQUEST"]["content"]


def test_swagger_ui(client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and b"swagger" in response.data.lower()


@pytest.mark.parametrize(("schema", "kind"), [(TransactionSchema, "transaction"), (WalletSchema, "wallet")])
def test_documented_fields_are_the_fields_answered(client, make_wallet, session, schema, kind) -> None:
    make_wallet("alice")
    transaction_id = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1}).get_json()["id"]
    answer = json.loads(
        transaction_json(session, TEST_CLIENT, transaction_id)
        if kind == "transaction"
        else wallet_json(session, TEST_CLIENT, "alice")
    )
    assert set(answer) == set(schema().fields)
