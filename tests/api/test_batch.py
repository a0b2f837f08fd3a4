"""POST /transactions/batch: validated whole, accepted in one commit, answered in request order."""

import json

import pytest
from sqlalchemy import event, text

from tests.api.problems import assert_problem

BATCH = "/transactions/batch"


@pytest.fixture
def wallets(make_wallet) -> None:
    for user in ("alice", "bob", "carol"):
        make_wallet(user)


def test_mixed_batch_is_answered_in_request_order(client, wallets, count) -> None:
    items = [
        {"type": "deposit", "user_id": "alice", "amount": 300},
        {"type": "transfer", "from_user_id": "alice", "to_user_id": "bob", "amount": 100},
        {"type": "withdraw", "user_id": "bob", "amount": 50, "metadata": {"n": 3}},
        {"type": "deposit", "user_id": "carol", "amount": 7, "provider_id": "deposit-provider-master"},
    ]
    response = client.post(BATCH, json={"transactions": items})
    assert response.status_code == 202
    answered = response.get_json()["transactions"]
    assert [(t["type"], t["from_user_id"], t["to_user_id"], t["amount"]) for t in answered] == [
        ("deposit", "deposit-provider-master", "alice", 300),
        ("transfer", "alice", "bob", 100),
        ("withdraw", "bob", "withdraw-provider-master", 50),
        ("deposit", "deposit-provider-master", "carol", 7),
    ]
    assert answered[2]["metadata"] == {"n": 3}
    assert {t["status"] for t in answered} == {"queued"}
    assert len({t["id"] for t in answered}) == 4
    assert count("transactions") == 4


def test_invalid_items_are_named_by_index_and_nothing_is_accepted(client, wallets, count) -> None:
    items = [
        {"type": "deposit", "user_id": "alice", "amount": 1},
        {"type": "deposit", "user_id": "alice", "amount": 10.5},
        {"type": "transfer", "from_user_id": "alice", "to_user_id": "bob", "amount": 1},
        {"type": "transfer", "from_user_id": "alice", "to_user_id": "alice", "amount": 1},
        {"type": "refund", "user_id": "alice", "amount": 1},
        "not an object",
        {"type": "withdraw", "user_id": "alice", "amount": 1, "extra": True},
    ]
    problem = assert_problem(client.post(BATCH, json={"transactions": items}), 400, "validation_failed")
    errors = problem["errors"]["transactions"]
    assert set(errors) == {"1", "3", "4", "5", "6"}
    assert list(errors["1"]) == ["amount"]
    assert list(errors["3"]) == ["to_user_id"]
    assert list(errors["4"]) == ["type"]
    assert list(errors["6"]) == ["extra"]
    assert count("transactions") == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"transactions": []}, {"transactions": {}}, {"transactions": [], "extra": 1}],
    ids=["missing", "empty", "not-a-list", "unknown-field"],
)
def test_batch_shape(client, count, body) -> None:
    assert_problem(client.post(BATCH, json=body), 400, "validation_failed")
    assert count("transactions") == 0


@pytest.mark.parametrize("kind", [{}, [], 1, None, True, "Transfer"])
def test_item_type_that_is_not_a_movement_name_is_refused(client, wallets, count, kind) -> None:
    item = {"type": kind, "from_user_id": "alice", "to_user_id": "bob", "amount": 1}
    problem = assert_problem(client.post(BATCH, json={"transactions": [item]}), 400, "validation_failed")
    assert list(problem["errors"]["transactions"]["0"]) == ["type"]
    assert count("transactions") == 0


def test_more_than_1000_items_are_refused_before_any_is_read(client, wallets, count) -> None:
    items = [{}] * 1001
    problem = assert_problem(client.post(BATCH, json={"transactions": items}), 400, "validation_failed")
    assert problem["errors"] == {"transactions": ["Must hold at most 1000 items."]}
    assert count("transactions") == 0


def test_1000_items_larger_than_64_kib_are_accepted(client, wallets, count) -> None:
    items = [{"type": "transfer", "from_user_id": "alice", "to_user_id": "bob", "amount": i + 1} for i in range(1000)]
    body = json.dumps({"transactions": items})
    assert len(body) > 64 * 1024
    response = client.post(BATCH, data=body, content_type="application/json")
    assert response.status_code == 202
    assert [t["amount"] for t in response.get_json()["transactions"]] == list(range(1, 1001))
    assert count("transactions") == 1000


def test_unknown_wallet_is_a_404_naming_every_item_that_uses_it(client, wallets, count) -> None:
    items = [
        {"type": "deposit", "user_id": "alice", "amount": 1},
        {"type": "transfer", "from_user_id": "alice", "to_user_id": "ghost", "amount": 1},
        {"type": "deposit", "user_id": "ghost", "amount": 1},
    ]
    problem = assert_problem(client.post(BATCH, json={"transactions": items}), 404, "wallet_not_found")
    assert problem["errors"]["transactions"] == {
        "1": {"to_user_id": [problem["detail"]]},
        "2": {"user_id": [problem["detail"]]},
    }
    assert count("transactions") == 0


def test_wallet_in_the_wrong_role_refuses_the_batch(client, wallets, count) -> None:
    items = [
        {"type": "deposit", "user_id": "alice", "amount": 1},
        {"type": "transfer", "from_user_id": "alice", "to_user_id": "deposit-provider-master", "amount": 1},
    ]
    assert_problem(client.post(BATCH, json={"transactions": items}), 400, "not_a_user_wallet")
    assert count("transactions") == 0


def test_item_keys_replay_and_conflict(client, wallets, count) -> None:
    single = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 5}, headers={"Idempotency-Key": "a"})
    items = [
        {"type": "deposit", "user_id": "alice", "amount": 5, "idempotency_key": "a"},
        {"type": "deposit", "user_id": "bob", "amount": 5, "idempotency_key": "b"},
    ]
    answered = client.post(BATCH, json={"transactions": items}).get_json()["transactions"]
    assert answered[0]["id"] == single.get_json()["id"]
    assert count("transactions") == 2
    items[1]["amount"] = 6
    assert_problem(client.post(BATCH, json={"transactions": items}), 409, "idempotency_key_reused")
    assert count("transactions") == 2


def test_a_key_twice_in_one_batch_is_refused(client, wallets, count) -> None:
    items = [{"type": "deposit", "user_id": u, "amount": 5, "idempotency_key": "same"} for u in ("alice", "bob")]
    assert_problem(client.post(BATCH, json={"transactions": items}), 400, "duplicate_idempotency_key")
    assert count("transactions") == 0


def test_header_key_replays_the_whole_batch(client, wallets, count) -> None:
    items = [{"type": "deposit", "user_id": u, "amount": 5} for u in ("alice", "bob", "carol")]
    key = {"Idempotency-Key": "nightly-payout-2026-11-25"}
    first = client.post(BATCH, json={"transactions": items}, headers=key)
    again = client.post(BATCH, json={"transactions": items}, headers=key)
    assert first.status_code == again.status_code == 202
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count("transactions") == 3
    items[2]["amount"] = 6
    assert_problem(client.post(BATCH, json={"transactions": items}, headers=key), 409, "idempotency_key_reused")
    assert count("transactions") == 3


def test_batch_without_keys_is_not_deduplicated(client, wallets, count) -> None:
    items = [{"type": "deposit", "user_id": "alice", "amount": 5}] * 2
    assert client.post(BATCH, json={"transactions": items}).status_code == 202
    assert client.post(BATCH, json={"transactions": items}).status_code == 202
    assert count("transactions") == 4


def test_a_batch_costs_a_few_statements_not_one_per_item(app, client, engine) -> None:
    users = [f"user-{i:03d}" for i in range(100)]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO wallets (client_id, user_id, acnt_type) SELECT 'tests', unnest(CAST(:u AS text[])), 'user'"
            ),
            {"u": users},
        )
    items = [
        {"type": "transfer", "from_user_id": payer, "to_user_id": payee, "amount": 1}
        for payer, payee in zip(users, users[1:] + users[:1], strict=True)
    ]
    # The key is checked once, then cached (api.extensions.auth): warm the cache first.
    assert client.get("/wallets/user-000").status_code == 200
    statements = []
    record = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    database = app.extensions["database"]
    for engine_ in (database.engine, database.autocommit):
        event.listen(engine_, "before_cursor_execute", record)
    try:
        response = client.post(BATCH, json={"transactions": items})
    finally:
        for engine_ in (database.engine, database.autocommit):
            event.remove(engine_, "before_cursor_execute", record)
    assert response.status_code == 202
    assert len({t["from_user_id"] for t in response.get_json()["transactions"]}) == 100
    # One call of accept_transactions, on an autocommit connection: one round trip for the batch
    # (and the PREPARE of that call, the first time a connection makes it).
    calls = [s for s in statements if not s.startswith("PREPARE")]
    assert len(calls) == 1 and "accept" in calls[0], statements
