"""The money routes: 202 with the queued transaction, idempotency keys, Prefer: wait, and the wake-up."""

import json
import threading

import pytest

import settings
from ledger.partitions import partition_of
from ledger.queries import transaction_json
from tests.api.problems import assert_problem
from tests.conftest import TEST_CLIENT, with_key
from workers.wakeups import Wakeups, wake_key


@pytest.fixture
def alice(make_wallet) -> str:
    make_wallet("bob")
    return make_wallet("alice")


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/wallets/deposit", {"user_id": "alice", "amount": 100}, ("deposit", "deposit-provider-master", "alice")),
        ("/wallets/withdraw", {"user_id": "alice", "amount": 100}, ("withdraw", "alice", "withdraw-provider-master")),
        (
            "/wallets/transfer",
            {"from_user_id": "alice", "to_user_id": "bob", "amount": 100},
            ("transfer", "alice", "bob"),
        ),
    ],
)
def test_money_route_answers_202_with_the_queued_transaction(client, alice, count, path, body, expected) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 202
    transaction = response.get_json()
    assert (transaction["type"], transaction["from_user_id"], transaction["to_user_id"]) == expected
    assert transaction["status"] == "queued"
    assert transaction["amount"] == 100 and transaction["currency"] == "USD"
    assert transaction["applied_at"] is None and transaction["decided_at"] is None and transaction["failure"] is None
    assert transaction["created_at"].endswith("Z")
    assert response.headers["Location"] == f"/transactions/{transaction['id']}"
    assert "Idempotent-Replayed" not in response.headers
    assert count("transactions") == 1
    # Polling answers the same representation.
    assert client.get(response.headers["Location"]).get_json() == transaction


def test_optional_fields_are_kept(app, client, alice, make_wallet) -> None:
    # A callback needs a signing secret; a loopback URL needs private addresses allowed (no DNS in tests).
    app.config.update(WEBHOOK_SECRET="whsec_dGVzdC1zZWNyZXQtZm9yLWFwaS10ZXN0cw==", WEBHOOK_ALLOW_PRIVATE=True)
    make_wallet("acme-bank", "provider")
    body = {
        "user_id": "alice",
        "amount": 5,
        "provider_id": "acme-bank",
        "currency": "USD",
        "metadata": {"order": "A-1", "lines": [1, 2]},
        "callback_url": "http://127.0.0.1:9/hooks/wallet",
    }
    transaction = client.post("/wallets/deposit", json=body).get_json()
    assert transaction["from_user_id"] == "acme-bank"
    assert transaction["metadata"] == {"order": "A-1", "lines": [1, 2]}


def test_the_payers_partition_is_woken_after_the_commit(client, alice, clean_redis) -> None:
    client.post("/wallets/transfer", json={"from_user_id": "alice", "to_user_id": "bob", "amount": 1})
    assert clean_redis.exists(wake_key(partition_of("alice", settings.PARTITIONS)))


def test_broker_down_is_not_the_clients_problem(app, client, alice, count) -> None:
    app.extensions["wakeups"] = Wakeups("redis://127.0.0.1:1/0", publish_timeout=0.5, ttl=30)
    response = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1})
    assert response.status_code == 202
    assert count("transactions") == 1


def test_same_key_same_body_replays_the_original(client, alice, count) -> None:
    body, key = {"user_id": "alice", "amount": 100}, {"Idempotency-Key": "order-1"}
    first = client.post("/wallets/deposit", json=body, headers=key)
    again = client.post("/wallets/deposit", json=body, headers=key)
    assert first.status_code == again.status_code == 202
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert count("transactions") == 1


def test_explicit_default_provider_is_the_same_body(client, alice, count) -> None:
    key = {"Idempotency-Key": "order-1"}
    first = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 100}, headers=key)
    body = {"user_id": "alice", "amount": 100, "provider_id": "deposit-provider-master"}
    again = client.post("/wallets/deposit", json=body, headers=key)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert count("transactions") == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/wallets/deposit", {"user_id": "alice", "amount": 101}),
        ("/wallets/deposit", {"user_id": "bob", "amount": 100}),
        ("/wallets/deposit", {"user_id": "alice", "amount": 100, "metadata": {"a": 1}}),
        ("/wallets/withdraw", {"user_id": "alice", "amount": 100}),
    ],
)
def test_same_key_other_body_conflicts(client, alice, count, path, body) -> None:
    key = {"Idempotency-Key": "order-1"}
    client.post("/wallets/deposit", json={"user_id": "alice", "amount": 100}, headers=key)
    problem = assert_problem(client.post(path, json=body, headers=key), 409, "idempotency_key_reused")
    assert "order-1" in problem["detail"]
    assert count("transactions") == 1


def test_without_a_key_nothing_is_deduplicated(client, alice, count) -> None:
    for _ in range(2):
        assert client.post("/wallets/deposit", json={"user_id": "alice", "amount": 100}).status_code == 202
    assert count("transactions") == 2


def test_concurrent_duplicates_make_one_transaction(app, api_key, alice, count) -> None:
    clients = 16
    start = threading.Barrier(clients)
    answers = [None] * clients

    def send(index: int) -> None:
        client = with_key(app.test_client(), api_key)
        start.wait()
        answers[index] = client.post(
            "/wallets/transfer",
            json={"from_user_id": "alice", "to_user_id": "bob", "amount": 7},
            headers={"Idempotency-Key": "double-click"},
        )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [202] * clients
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == clients - 1
    assert count("transactions") == 1


def test_prefer_wait_without_a_worker_runs_out_and_answers_202(client, alice) -> None:
    response = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1}, headers={"Prefer": "wait=1"})
    assert response.status_code == 202
    assert response.get_json()["status"] == "queued"
    assert response.headers["Preference-Applied"] == "wait=1"


def test_poll_with_prefer_wait_answers_the_current_state(client, alice) -> None:
    location = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1}).headers["Location"]
    response = client.get(location, headers={"Prefer": "wait=1"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "queued"
    assert response.headers["Preference-Applied"] == "wait=1"


def test_prefer_wait_beyond_the_bound_is_answered_at_once_without_preference_applied(client, app, alice) -> None:
    # Every wait slot taken, as when API_MAX_WAITING requests are already held.
    slots = app.extensions["wait_slots"]
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    try:
        money = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1}, headers={"Prefer": "wait=30"})
        poll = client.get(money.headers["Location"], headers={"Prefer": "wait=30"})
    finally:
        for _ in range(taken):
            slots.release()
    assert taken == app.config["API_MAX_WAITING"] > 0
    assert (money.status_code, poll.status_code) == (202, 200)
    assert money.get_json()["status"] == poll.get_json()["status"] == "queued"
    assert "Preference-Applied" not in money.headers and "Preference-Applied" not in poll.headers


def test_without_prefer_no_preference_is_applied(client, alice) -> None:
    response = client.post(
        "/wallets/deposit", json={"user_id": "alice", "amount": 1}, headers={"Prefer": "return=minimal"}
    )
    assert response.status_code == 202
    assert "Preference-Applied" not in response.headers


def test_representation_is_json_ready(session_factory, client, alice) -> None:
    transaction_id = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1}).get_json()["id"]
    with session_factory() as session:
        body = json.loads(transaction_json(session, TEST_CLIENT, transaction_id))
    assert isinstance(body["id"], str)
    assert body == client.get(f"/transactions/{transaction_id}").get_json()
