"""Bad input is a 400 problem naming the field, and nothing is written."""

import pytest

from tests.api.problems import assert_problem

BAD_AMOUNTS = [10.5, "10", True, False, None, 0, -5, 10**15 + 1, 1e3, [], {}]
BAD_USER_IDS = ["", "a" * 65, "has space", "trailing-newline\n", "é", "semi;colon", 123, None]


@pytest.fixture
def wallets(make_wallet) -> None:
    make_wallet("alice")
    make_wallet("bob")


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/wallets/deposit", {"user_id": "alice"}),
        ("/wallets/withdraw", {"user_id": "alice"}),
        ("/wallets/transfer", {"from_user_id": "alice", "to_user_id": "bob"}),
    ],
)
def test_amount_must_be_a_positive_integer_of_cents(client, wallets, count, path, body, amount) -> None:
    problem = assert_problem(client.post(path, json={**body, "amount": amount}), 400, "validation_failed")
    assert list(problem["errors"]) == ["amount"]
    assert count("transactions") == 0


def test_largest_amount_is_accepted(client, wallets, count) -> None:
    response = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 10**15})
    assert response.status_code == 202
    assert count("transactions") == 1


@pytest.mark.parametrize("user_id", BAD_USER_IDS)
def test_user_id_format(client, wallets, count, user_id) -> None:
    problem = assert_problem(
        client.post("/wallets/deposit", json={"user_id": user_id, "amount": 1}), 400, "validation_failed"
    )
    assert list(problem["errors"]) == ["user_id"]
    problem = assert_problem(
        client.post("/users", json={"user_id": user_id, "acnt_type": "user"}), 400, "validation_failed"
    )
    assert list(problem["errors"]) == ["user_id"]
    assert count("transactions") == 0
    assert count("wallets") == 4  # alice, bob and the two providers


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "alice", "amount": 1, "currency": "usd"}, "currency"),
        ({"user_id": "alice", "amount": 1, "currency": "US"}, "currency"),
        ({"user_id": "alice", "amount": 1, "currency": "USDD"}, "currency"),
        ({"user_id": "alice", "amount": 1, "currency": "USD\n"}, "currency"),
        ({"user_id": "alice", "amount": 1, "metadata": "a string"}, "metadata"),
        ({"user_id": "alice", "amount": 1, "metadata": [1, 2]}, "metadata"),
        ({"user_id": "alice", "amount": 1, "metadata": {"note": "x" * 5000}}, "metadata"),
        ({"user_id": "alice", "amount": 1, "callback_url": "ftp://example.com/hook"}, "callback_url"),
        ({"user_id": "alice", "amount": 1, "callback_url": "not a url"}, "callback_url"),
        ({"user_id": "alice", "amount": 1, "provider_id": "bad id"}, "provider_id"),
        ({"user_id": "alice", "amount": 1, "surprise": 1}, "surprise"),
        ({"user_id": "alice", "amount": 1, "idempotency_key": "k"}, "idempotency_key"),
        ({"amount": 1}, "user_id"),
    ],
)
def test_deposit_fields(client, wallets, count, body, field) -> None:
    problem = assert_problem(client.post("/wallets/deposit", json=body), 400, "validation_failed")
    assert field in problem["errors"]
    assert count("transactions") == 0


@pytest.mark.parametrize("body", ["[1, 2]", '"a string"', "5", "null"])
def test_body_must_be_an_object(client, wallets, count, body) -> None:
    response = client.post("/wallets/deposit", data=body, content_type="application/json")
    assert_problem(response, 400, "validation_failed")
    assert count("transactions") == 0


def test_self_transfer_is_refused(client, wallets, count) -> None:
    body = {"from_user_id": "alice", "to_user_id": "alice", "amount": 1}
    problem = assert_problem(client.post("/wallets/transfer", json=body), 400, "validation_failed")
    assert list(problem["errors"]) == ["to_user_id"]
    assert count("transactions") == 0


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/wallets/deposit", {"user_id": "alice", "amount": 1, "provider_id": "bob"}, "not_a_provider_wallet"),
        ("/wallets/withdraw", {"user_id": "deposit-provider-master", "amount": 1}, "not_a_user_wallet"),
        (
            "/wallets/transfer",
            {"from_user_id": "alice", "to_user_id": "withdraw-provider-master", "amount": 1},
            "not_a_user_wallet",
        ),
    ],
)
def test_wallets_in_the_wrong_role_are_refused(client, wallets, count, path, body, code) -> None:
    assert_problem(client.post(path, json=body), 400, code)
    assert count("transactions") == 0


@pytest.mark.parametrize("key", ["", "k" * 256, "café", "a\tb", "k" * 10_000])
def test_idempotency_key_is_1_to_255_printable_ascii_characters(client, wallets, count, key) -> None:
    response = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1}, headers={"Idempotency-Key": key})
    problem = assert_problem(response, 400, "validation_failed")
    assert list(problem["errors"]) == ["Idempotency-Key"]
    assert count("transactions") == 0


@pytest.mark.parametrize("key", ["k" * 255, "order 42/a:b~!", " ~"])
def test_printable_ascii_idempotency_keys_are_accepted(client, wallets, key) -> None:
    response = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1}, headers={"Idempotency-Key": key})
    assert response.status_code == 202


@pytest.mark.parametrize("key", ["", "k" * 256, "café", "a\tb"])
def test_batch_item_keys_follow_the_header_rule(client, wallets, count, key) -> None:
    item = {"type": "deposit", "user_id": "alice", "amount": 1, "idempotency_key": key}
    response = client.post("/transactions/batch", json={"transactions": [item]})
    problem = assert_problem(response, 400, "validation_failed")
    assert list(problem["errors"]["transactions"]["0"]) == ["idempotency_key"]
    assert count("transactions") == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "carol", "acnt_type": "system"}, "acnt_type"),
        ({"user_id": "carol", "acnt_type": "admin"}, "acnt_type"),
        ({"user_id": "carol"}, "acnt_type"),
        ({"user_id": "carol", "acnt_type": "user", "currency": "eur"}, "currency"),
        ({"user_id": "carol", "acnt_type": "user", "balance": 100}, "balance"),
    ],
)
def test_wallet_fields(client, count, body, field) -> None:
    problem = assert_problem(client.post("/users", json=body), 400, "validation_failed")
    assert field in problem["errors"]
    assert count("wallets") == 2


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=ten", "type=refund", "status=pending", "starting_after=x", "page=2"]
)
def test_list_query(client, query) -> None:
    assert_problem(client.get(f"/transactions?{query}"), 400, "validation_failed")
