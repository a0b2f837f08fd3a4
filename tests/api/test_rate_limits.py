"""Rate limits, counted in Redis: per key (its own limit, else API_RATE_LIMIT), per IP address before
authentication; a 429 says when to retry, and a limiter that cannot reach Redis refuses nothing."""

import logging
import os
from collections.abc import Iterator

import pytest
from flask import Flask

from api import close_app, create_app
from tests.api.problems import assert_problem
from tests.conftest import TEST_CLIENT, with_key

DEPOSIT = {"user_id": "alice", "amount": 1}


def _app(database_url: str, redis_url: str, **config) -> Flask:
    return create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "TESTING": True, **config})


@pytest.fixture
def limited(clean_db, clean_redis, database_url) -> Iterator[Flask]:
    """An app whose default limit is 2 requests a minute."""
    app = _app(database_url, os.environ["REDIS_URL"], API_RATE_LIMIT="2/minute")
    yield app
    close_app(app)


def test_a_key_over_its_own_limit_gets_429_and_another_client_does_not(app, client, make_wallet, make_key, count):
    make_wallet("alice")
    slow = with_key(app.test_client(), make_key("slow", rate_limit="3/minute"))
    assert [slow.get("/transactions").status_code for _ in range(3)] == [200] * 3
    before = count("transactions")

    refused = slow.post("/wallets/deposit", json=DEPOSIT)

    problem = assert_problem(refused, 429, "rate_limited")
    assert "3 per 1 minute" in problem["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) > 0
    assert count("transactions") == before
    # The tests' own key, at the same moment: its own count, untouched.
    assert client.post("/wallets/deposit", json=DEPOSIT).status_code == 202


def test_a_key_without_a_limit_of_its_own_gets_the_default(limited: Flask, make_key) -> None:
    plain = with_key(limited.test_client(), make_key("plain"))
    assert [plain.get("/transactions").status_code for _ in range(3)] == [200, 200, 429]


def test_requests_without_a_live_key_are_limited_per_address(limited: Flask, api_key: str) -> None:
    anonymous = limited.test_client()
    answers = [anonymous.get("/transactions").status_code for _ in range(3)]
    assert answers == [401, 401, 429]
    # Another address is counted apart, and a key is counted as itself.
    assert limited.test_client().get("/transactions", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 401
    assert with_key(limited.test_client(), api_key).get("/transactions").status_code == 200


def test_a_large_limit_is_counted_in_redis_a_block_at_a_time(app: Flask, make_key, clean_redis) -> None:
    busy = with_key(app.test_client(), make_key("busy", rate_limit="100000/minute"))

    assert [busy.get("/transactions").status_code for _ in range(5)] == [200] * 5

    # One block of 1 % of the limit, reserved by the first request; the other four asked nothing.
    assert [int(clean_redis.get(key)) for key in clean_redis.scan_iter("LIMITS*")] == [1000]


def test_public_routes_are_not_limited(limited: Flask) -> None:
    anonymous = limited.test_client()
    assert {anonymous.get("/health").status_code for _ in range(5)} == {200}


def test_with_redis_stopped_requests_are_still_accepted(
    clean_db, database_url, throwaway_redis, client, make_wallet, make_key, count, caplog
) -> None:
    make_wallet("alice")
    app = _app(database_url, throwaway_redis.url)
    # A limit counted a request at a time (reservations.py): the first request after the kill meets
    # a dead Redis, where a larger limit would first spend the block it holds.
    keyed = with_key(app.test_client(), make_key(TEST_CLIENT, rate_limit="100/second"))
    try:
        assert keyed.post("/wallets/deposit", json=DEPOSIT).status_code == 202
        throwaway_redis.kill()
        with caplog.at_level(logging.WARNING, logger="flask-limiter"):
            answers = [keyed.post("/wallets/deposit", json=DEPOSIT).status_code for _ in range(3)]
    finally:
        close_app(app)
    assert answers == [202] * 3
    assert count("transactions") == 4
    warnings = [r for r in caplog.records if r.name == "flask-limiter" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
