"""Two clients on one ledger: each sees and moves only its own wallets, and another client's wallet
or transaction is answered exactly as one that does not exist."""

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from tests.api.problems import assert_problem
from tests.conftest import with_key

WAIT = {"Prefer": "wait=0"}


@pytest.fixture
def other(app: Flask, make_key) -> FlaskClient:
    """Client ``other``, with wallets carol and alice (its own alice), carol funded."""
    client = with_key(app.test_client(), make_key("other"))
    for user_id in ("carol", "alice"):
        assert client.post("/users", json={"user_id": user_id, "acnt_type": "user"}).status_code == 201
    assert client.post("/wallets/deposit", json={"user_id": "carol", "amount": 500}).status_code == 202
    return client


@pytest.fixture
def ours(client: FlaskClient, make_wallet) -> FlaskClient:
    """The tests' client, with wallets alice and bob."""
    make_wallet("alice")
    make_wallet("bob")
    return client


def _unknown_alike(theirs, unknown, name: str, stranger: str) -> None:
    """Same status, same body but for the name: nothing tells the two apart."""
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.get_data(as_text=True).replace(name, "?") == unknown.get_data(as_text=True).replace(stranger, "?")


def test_two_clients_may_each_open_the_same_user_id(ours: FlaskClient, other: FlaskClient, engine: Engine) -> None:
    with engine.connect() as conn:
        owners = conn.execute(text("SELECT client_id FROM wallets WHERE user_id = 'alice' ORDER BY client_id"))
        assert owners.scalars().all() == ["other", "tests"]
    assert ours.get("/wallets/alice").get_json()["wallet"]["balance"] == 0


def test_another_clients_wallet_reads_as_unknown(ours: FlaskClient, other: FlaskClient) -> None:
    for suffix in ("", "/transactions", "/statement"):
        _unknown_alike(ours.get(f"/wallets/carol{suffix}"), ours.get(f"/wallets/nobody{suffix}"), "carol", "nobody")


def test_another_clients_wallet_cannot_be_moved_from_or_to(ours: FlaskClient, other: FlaskClient, count) -> None:
    before = count("transactions")
    cases = [
        ("/wallets/deposit", {"user_id": "{}", "amount": 1}),
        ("/wallets/withdraw", {"user_id": "{}", "amount": 1}),
        ("/wallets/transfer", {"from_user_id": "{}", "to_user_id": "bob", "amount": 1}),
        ("/wallets/transfer", {"from_user_id": "bob", "to_user_id": "{}", "amount": 1}),
    ]
    for path, body in cases:
        theirs = {k: v.format("carol") if isinstance(v, str) else v for k, v in body.items()}
        unknown = {k: v.format("nobody") if isinstance(v, str) else v for k, v in body.items()}
        _unknown_alike(ours.post(path, json=theirs), ours.post(path, json=unknown), "carol", "nobody")
    item = {"type": "transfer", "from_user_id": "bob", "to_user_id": "carol", "amount": 1}
    batch = ours.post("/transactions/batch", json={"transactions": [item]})
    assert assert_problem(batch, 404, "wallet_not_found")["errors"] == {
        "transactions": {"0": {"to_user_id": ["no wallet with user_id 'carol'"]}}
    }
    assert count("transactions") == before


def test_another_clients_transactions_are_neither_shown_nor_listed(ours: FlaskClient, other: FlaskClient) -> None:
    [theirs] = other.get("/transactions").get_json()["transactions"]
    unknown = "00000000-0000-4000-8000-000000000000"
    _unknown_alike(
        ours.get(f"/transactions/{theirs['id']}", headers=WAIT),
        ours.get(f"/transactions/{unknown}", headers=WAIT),
        theirs["id"],
        unknown,
    )
    assert ours.get("/transactions").get_json()["transactions"] == []
    assert_problem(ours.get(f"/transactions?starting_after={theirs['id']}"), 400, "invalid_cursor")


def test_both_clients_use_the_platforms_providers(ours: FlaskClient, other: FlaskClient) -> None:
    deposit = ours.post("/wallets/deposit", json={"user_id": "alice", "amount": 10})
    assert deposit.status_code == 202
    assert deposit.get_json()["from_user_id"] == "deposit-provider-master"
    # The platform's wallets are its own: a client neither reads them nor takes their names.
    assert_problem(ours.get("/wallets/deposit-provider-master"), 404, "wallet_not_found")
    for name in ("deposit-provider-master", "withdraw-provider-master", "world"):
        taken = other.post("/users", json={"user_id": name, "acnt_type": "provider"})
        assert_problem(taken, 409, "wallet_exists")


def test_idempotency_keys_are_per_client(ours: FlaskClient, other: FlaskClient) -> None:
    key = {"Idempotency-Key": "order-1"}
    mine = ours.post("/wallets/deposit", json={"user_id": "alice", "amount": 1}, headers=key)
    theirs = other.post("/wallets/deposit", json={"user_id": "alice", "amount": 2}, headers=key)
    assert mine.status_code == theirs.status_code == 202
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_another_clients_webhook_endpoints_are_unknown(app: Flask, ours: FlaskClient, other: FlaskClient) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    created = other.post("/webhooks", json={"url": "http://127.0.0.1:9/theirs"})
    assert created.status_code == 201
    endpoint = created.get_json()["id"]
    assert ours.get("/webhooks").get_json() == {"webhooks": []}
    for method, suffix in (("get", ""), ("delete", ""), ("get", "/deliveries")):
        response = getattr(ours, method)(f"/webhooks/{endpoint}{suffix}")
        assert_problem(response, 404, "webhook_endpoint_not_found")
    assert other.get(f"/webhooks/{endpoint}").status_code == 200
