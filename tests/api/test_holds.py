"""Holds and reversals over HTTP: the fields, the routes, their answers and refusals.

The engine is run in this process (``drain_partitions``) where a test needs a transaction decided:
the workers' own path is tested in tests/e2e.
"""

import pytest
from flask.testing import FlaskClient

import settings
from ledger.posting import drain_partitions
from tests.api.problems import assert_problem

HOLD = {"from_user_id": "alice", "to_user_id": "bob", "amount": 300, "hold": True}


@pytest.fixture
def funded(client: FlaskClient, make_wallet, session_factory) -> None:
    make_wallet("alice")
    make_wallet("bob")
    assert client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1_000}).status_code == 202
    drain(session_factory)


def drain(session_factory) -> None:
    drain_partitions(session_factory, range(settings.PARTITIONS), batch_size=1000, max_seconds=30)


def test_a_hold_is_a_transfer_with_hold_true(client, funded, session_factory) -> None:
    answer = client.post("/wallets/transfer", json=HOLD)
    assert answer.status_code == 202
    held = answer.get_json()
    assert (held["hold"], held["status"], held["settled_by"]) == (True, "queued", None)
    assert held["expires_at"] is not None
    drain(session_factory)
    assert client.get(f"/transactions/{held['id']}").get_json()["status"] == "held"
    wallet = client.get("/wallets/alice").get_json()["wallet"]
    assert (wallet["balance"], wallet["held"], wallet["available"]) == (700, 300, 700)


def test_capture_void_and_reverse_answer_202_with_the_new_transaction(client, funded, session_factory) -> None:
    held = client.post("/wallets/transfer", json=HOLD).get_json()
    capture = client.post(f"/transactions/{held['id']}/capture", json={"amount": 100})
    assert capture.status_code == 202
    assert capture.headers["Location"] == f"/transactions/{capture.get_json()['id']}"
    assert (capture.get_json()["type"], capture.get_json()["original_id"]) == ("capture", held["id"])
    drain(session_factory)
    settled = client.get(f"/transactions/{held['id']}").get_json()
    assert (settled["status"], settled["settled_by"]["amount"]) == ("captured", 100)
    assert client.get("/wallets/bob").get_json()["wallet"]["balance"] == 100

    reversal = client.post(f"/transactions/{capture.get_json()['id']}/reverse", json={})
    assert reversal.status_code == 202
    assert (reversal.get_json()["amount"], reversal.get_json()["from_user_id"]) == (100, "bob")
    drain(session_factory)
    original = client.get(f"/transactions/{capture.get_json()['id']}").get_json()
    assert (original["reversed_amount"], original["reversals"]) == (100, [reversal.get_json()["id"]])


def test_a_void_needs_no_body(client, funded, session_factory) -> None:
    held = client.post("/wallets/transfer", json=HOLD).get_json()
    void = client.post(f"/transactions/{held['id']}/void")
    assert void.status_code == 202, void.get_json()
    drain(session_factory)
    assert client.get(f"/transactions/{held['id']}").get_json()["status"] == "voided"
    assert client.get("/wallets/alice").get_json()["wallet"]["balance"] == 1_000


def test_follow_ups_replay_by_idempotency_key(client, funded) -> None:
    held = client.post("/wallets/transfer", json=HOLD).get_json()
    key = {"Idempotency-Key": "capture-1"}
    first = client.post(f"/transactions/{held['id']}/capture", json={"amount": 5}, headers=key)
    again = client.post(f"/transactions/{held['id']}/capture", json={"amount": 5}, headers=key)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post(f"/transactions/{held['id']}/capture", json={"amount": 6}, headers=key)
    assert_problem(other, 409, "idempotency_key_reused")


def test_refusals_change_nothing(client, funded, session_factory, count) -> None:
    plain = client.post("/wallets/transfer", json={**HOLD, "hold": False}).get_json()
    held = client.post("/wallets/transfer", json=HOLD).get_json()
    before = count("transactions")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(client.post(f"/transactions/{unknown}/capture"), 404, "transaction_not_found")
    assert_problem(client.post(f"/transactions/{plain['id']}/capture"), 409, "not_a_hold")
    assert_problem(client.post(f"/transactions/{held['id']}/capture", json={"amount": 301}), 400, "amount_exceeds_hold")
    assert_problem(client.post(f"/transactions/{plain['id']}/reverse"), 409, "transaction_not_applied")
    assert_problem(client.post(f"/transactions/{held['id']}/void", json={"amount": 1}), 400, "validation_failed")
    assert count("transactions") == before
    drain(session_factory)
    assert_problem(client.post(f"/transactions/{held['id']}/reverse"), 409, "transaction_not_applied")
    assert_problem(
        client.post(f"/transactions/{plain['id']}/reverse", json={"amount": 301}), 409, "reversal_exceeds_original"
    )
    assert count("transactions") == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in": 60}, "expires_in"),
        ({"hold": True, "expires_in": 0}, "expires_in"),
        ({"hold": True, "expires_in": 30 * 24 * 3600 + 1}, "expires_in"),
        ({"hold": 1}, "hold"),
        ({"hold": "true"}, "hold"),
    ],
)
def test_hold_fields_are_checked(client, funded, count, body, field) -> None:
    before = count("transactions")
    answer = client.post("/wallets/transfer", json={"from_user_id": "alice", "to_user_id": "bob", "amount": 1, **body})
    assert field in assert_problem(answer, 400, "validation_failed")["errors"]
    assert count("transactions") == before


def test_a_deposit_is_never_a_hold(client, funded) -> None:
    answer = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1, "hold": True})
    assert "hold" in assert_problem(answer, 400, "validation_failed")["errors"]


def test_a_batch_accepts_holds(client, funded, session_factory) -> None:
    items = [{"type": "transfer", **HOLD}, {"type": "withdraw", "user_id": "alice", "amount": 50, "hold": True}]
    answer = client.post("/transactions/batch", json={"transactions": items})
    assert answer.status_code == 202
    assert [t["hold"] for t in answer.get_json()["transactions"]] == [True, True]
    drain(session_factory)
    assert client.get("/wallets/alice").get_json()["wallet"]["held"] == 350


def test_holding_accounts_are_the_platforms(client, funded) -> None:
    assert_problem(client.get("/wallets/holding:USD"), 404, "wallet_not_found")
    answer = client.post("/users", json={"user_id": "holding:EUR", "acnt_type": "user"})
    assert_problem(answer, 409, "wallet_exists")
    transfer = {"from_user_id": "alice", "to_user_id": "holding:USD", "amount": 1}
    assert_problem(client.post("/wallets/transfer", json=transfer), 404, "wallet_not_found")
