"""Every failure is a problem+json answer with a stable code, never a stack trace or a 500 for bad input."""

import json

import pytest
from flask import Flask

from api import close_app, create_app
from api.extensions.problems import status_of
from ledger.errors import LedgerError
from tests.api.problems import assert_problem
from tests.conftest import with_key

# Nothing listens here: the database is down, as far as the app can tell.
UNREACHABLE_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:1/wallet"


def test_unknown_route(client) -> None:
    assert_problem(client.get("/no/such/route"), 404, "not_found")


def test_unknown_wallet(client) -> None:
    problem = assert_problem(client.get("/wallets/ghost"), 404, "wallet_not_found")
    assert "ghost" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/wallets/deposit", {"user_id": "ghost", "amount": 1}, "user_id"),
        ("/wallets/withdraw", {"user_id": "ghost", "amount": 1}, "user_id"),
        ("/wallets/deposit", {"user_id": "alice", "amount": 1, "provider_id": "ghost"}, "provider_id"),
        ("/wallets/transfer", {"from_user_id": "alice", "to_user_id": "ghost", "amount": 1}, "to_user_id"),
        ("/wallets/transfer", {"from_user_id": "ghost", "to_user_id": "alice", "amount": 1}, "from_user_id"),
        # The system account exists but is no one's to name.
        ("/wallets/transfer", {"from_user_id": "world", "to_user_id": "alice", "amount": 1}, "from_user_id"),
    ],
)
def test_money_to_or_from_an_unknown_wallet(client, make_wallet, count, path, body, field) -> None:
    make_wallet("alice")
    problem = assert_problem(client.post(path, json=body), 404, "wallet_not_found")
    assert list(problem["errors"]) == [field]
    assert count("transactions") == 0


def test_unknown_transaction(client) -> None:
    response = client.get("/transactions/00000000-0000-0000-0000-000000000000")
    assert_problem(response, 404, "transaction_not_found")
    assert_problem(client.get("/transactions/not-a-uuid"), 404, "not_found")


def test_method_not_allowed_names_the_allowed_ones(client) -> None:
    response = client.delete("/users")
    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    assert_problem(client.put("/wallets/deposit", json={}), 405, "method_not_allowed")


def test_duplicate_wallet(client, make_wallet, count) -> None:
    make_wallet("alice")
    problem = assert_problem(
        client.post("/users", json={"user_id": "alice", "acnt_type": "user"}), 409, "wallet_exists"
    )
    assert "alice" in problem["detail"]
    assert count("wallets") == 3


def test_body_larger_than_64_kib(client, make_wallet, count) -> None:
    make_wallet("alice")
    body = {"user_id": "alice", "amount": 1, "metadata": {"note": "x" * 70_000}}
    assert_problem(client.post("/wallets/deposit", json=body), 413, "body_too_large")
    assert count("transactions") == 0


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ('{"user_id": "alice", "amount": 1}', "text/plain"),
        ("user_id=alice&amount=1", "application/x-www-form-urlencoded"),
        ('{"user_id": "alice", "amount": 1}', None),
    ],
)
def test_body_that_is_not_json(client, make_wallet, count, data, content_type) -> None:
    make_wallet("alice")
    assert_problem(client.post("/wallets/deposit", data=data, content_type=content_type), 415, "unsupported_media_type")
    assert count("transactions") == 0


@pytest.mark.parametrize(
    "data",
    [
        '{"user_id": "alice", "amount": ',
        "{'user_id': 'alice'}",
        b'{"user_id": "\xff\xfe", "amount": 1}',
        # Longer than Python will turn into an int: a ValueError, not a JSONDecodeError.
        '{"user_id": "alice", "amount": 1' + "0" * 5000 + "}",
        # Deep enough to exhaust the parser's recursion, still under 64 KiB.
        "[" * 50_000,
    ],
    ids=["truncated", "single-quotes", "not-utf8", "huge-integer", "deep-nesting"],
)
def test_malformed_json(client, make_wallet, count, data) -> None:
    make_wallet("alice")
    assert_problem(client.post("/wallets/deposit", data=data, content_type="application/json"), 400, "malformed_json")
    assert count("transactions") == 0


def test_empty_json_body_names_the_missing_fields(client) -> None:
    problem = assert_problem(client.post("/users", data="", content_type="application/json"), 400, "validation_failed")
    assert set(problem["errors"]) == {"user_id", "acnt_type"}


@pytest.fixture
def app_without_database(clean_redis) -> Flask:
    app = create_app({"DATABASE_URL": UNREACHABLE_DATABASE, "TESTING": True})
    yield app
    close_app(app)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/users", {"user_id": "alice", "acnt_type": "user"}),
        ("post", "/wallets/deposit", {"user_id": "alice", "amount": 1}),
        ("post", "/transactions/batch", {"transactions": [{"type": "deposit", "user_id": "alice", "amount": 1}]}),
        ("get", "/wallets/alice", None),
        ("get", "/transactions/00000000-0000-0000-0000-000000000000", None),
        ("get", "/transactions", None),
    ],
)
def test_database_down_is_503_with_retry_after(app_without_database, api_key, method, path, body) -> None:
    response = getattr(with_key(app_without_database.test_client(), api_key), method)(path, json=body)
    assert_problem(response, 503, "database_unavailable")
    assert int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True).lower()
    assert "psycopg2" not in text and "127.0.0.1" not in text and "traceback" not in text


def test_unexpected_error_is_a_500_that_tells_nothing(clean_db, database_url, caplog) -> None:
    app = create_app({"DATABASE_URL": database_url})

    def broken():
        raise RuntimeError("secret internals: SELECT password FROM users")

    app.add_url_rule("/broken", view_func=broken)
    response = app.test_client().get("/broken")
    close_app(app)
    problem = assert_problem(response, 500, "internal_error")
    assert "secret" not in json.dumps(problem) and "RuntimeError" not in json.dumps(problem)
    assert "secret internals" in caplog.text


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}


def test_every_domain_error_has_an_http_status() -> None:
    # Imported by the app: every package that defines domain errors is loaded by now.
    unmapped = sorted(cls.__name__ for cls in _subclasses(LedgerError) if status_of(cls) is None)
    assert unmapped == []


def test_an_unmapped_domain_error_is_a_logged_500_not_a_silent_400(clean_db, database_url, caplog) -> None:
    class Unmapped(LedgerError):
        code = "unmapped"

    app = create_app({"DATABASE_URL": database_url})

    def raises():
        raise Unmapped("a new error nobody mapped")

    app.add_url_rule("/unmapped", view_func=raises)
    response = app.test_client().get("/unmapped")
    close_app(app)
    assert_problem(response, 500, "internal_error")
    assert "a new error nobody mapped" in caplog.text
