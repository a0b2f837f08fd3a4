"""A batch is refused (503 ledger_behind) while the oldest queued transaction is older than the limit.

No worker runs here, so a queued row stays queued and ages: the ledger falls behind on purpose.
"""

import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.extensions.database import db_connection
from ledger.queries import queue_age
from tests.api.problems import assert_problem
from tests.conftest import with_key

LIMIT_SECONDS = 0.05
BATCH = {"transactions": [{"type": "transfer", "from_user_id": "alice", "to_user_id": "bob", "amount": 1}]}
TRANSFER = {"from_user_id": "alice", "to_user_id": "bob", "amount": 1}


@pytest.fixture
def admitting_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(API_BATCH_MAX_QUEUE_AGE_SECONDS=LIMIT_SECONDS)


@pytest.fixture
def admitting(admitting_app: Flask, api_key: str) -> FlaskClient:
    client = with_key(admitting_app.test_client(), api_key)
    for user in ("alice", "bob"):
        assert client.post("/users", json={"user_id": user, "acnt_type": "user"}).status_code == 201
    return client


def _behind(app: Flask) -> None:
    """Wait until the oldest queued row is older than the limit, as the API measures it."""
    with app.test_request_context():
        deadline = time.monotonic() + 10
        while queue_age(db_connection(), app.config["PARTITIONS"]) <= LIMIT_SECONDS:
            assert time.monotonic() < deadline, "the queued row never aged"
            time.sleep(LIMIT_SECONDS)


def test_a_batch_is_accepted_while_nothing_waits(admitting, count) -> None:
    assert admitting.post("/transactions/batch", json=BATCH).status_code == 202
    assert count("transactions") == 1


def test_a_batch_is_told_to_retry_while_the_ledger_is_behind(admitting_app, admitting, count) -> None:
    assert admitting.post("/wallets/transfer", json=TRANSFER).status_code == 202
    _behind(admitting_app)

    response = admitting.post("/transactions/batch", json=BATCH, headers={"Idempotency-Key": "b-1"})

    problem = assert_problem(response, 503, "ledger_behind")
    assert response.headers["Retry-After"] == "1"
    assert "retry after 1 s" in problem["detail"]
    assert count("transactions") == 1


def test_single_requests_are_accepted_while_the_ledger_is_behind(admitting_app, admitting, count) -> None:
    assert admitting.post("/wallets/transfer", json=TRANSFER).status_code == 202
    _behind(admitting_app)

    assert admitting.post("/wallets/transfer", json=TRANSFER).status_code == 202
    assert count("transactions") == 2


def test_a_caller_without_a_key_hears_401_not_how_far_behind(admitting_app, admitting) -> None:
    assert admitting.post("/wallets/transfer", json=TRANSFER).status_code == 202
    _behind(admitting_app)

    anonymous = admitting_app.test_client()
    assert_problem(anonymous.post("/transactions/batch", json=BATCH), 401, "missing_api_key")


def test_queue_age_is_zero_when_nothing_waits(admitting_app) -> None:
    with admitting_app.test_request_context():
        assert queue_age(db_connection(), admitting_app.config["PARTITIONS"]) == 0
