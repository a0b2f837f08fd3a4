"""GET /wallets/{user_id}/statement: a wallet's entries newest first, with the balance each one left."""

import pytest

import settings
from api.resources.wallets.schemas import EntrySchema
from ledger.posting import drain_partitions
from tests.api.problems import assert_problem


@pytest.fixture
def apply_all(session_factory):
    """What the workers do, in this process: decide every queued transaction of every partition."""

    def apply() -> None:
        drain_partitions(session_factory, range(settings.PARTITIONS))

    return apply


@pytest.fixture
def applied(client, make_wallet, apply_all) -> list[str]:
    """alice gets 100, 200 and 300, then pays bob 50, and bob gets 7; all applied. Returns alice's ids, oldest first."""
    make_wallet("alice")
    make_wallet("bob")
    ids = [
        client.post("/wallets/deposit", json={"user_id": "alice", "amount": amount}).get_json()["id"]
        for amount in (100, 200, 300)
    ]
    apply_all()
    transfer = {"from_user_id": "alice", "to_user_id": "bob", "amount": 50}
    ids.append(client.post("/wallets/transfer", json=transfer).get_json()["id"])
    client.post("/wallets/deposit", json={"user_id": "bob", "amount": 7})
    apply_all()
    return ids


def test_statement_lists_entries_newest_first_with_running_balances(client, applied) -> None:
    response = client.get("/wallets/alice/statement")
    assert response.status_code == 200
    body = response.get_json()
    assert body["has_more"] is False
    entries = body["entries"]
    assert [e["transaction_id"] for e in entries] == applied[::-1]
    assert [(e["type"], e["amount"], e["balance_after"]) for e in entries] == [
        ("transfer", -50, 550),
        ("deposit", 300, 600),
        ("deposit", 200, 300),
        ("deposit", 100, 100),
    ]
    assert all(e["created_at"].endswith("Z") for e in entries)
    assert client.get("/wallets/alice").get_json()["wallet"]["balance"] == entries[0]["balance_after"]


def test_statement_by_pages(client, applied) -> None:
    first = client.get("/wallets/alice/statement?limit=3").get_json()
    assert len(first["entries"]) == 3 and first["has_more"] is True
    rest = client.get(f"/wallets/alice/statement?limit=3&starting_after={first['entries'][-1]['id']}").get_json()
    assert rest["has_more"] is False
    assert [e["transaction_id"] for e in first["entries"] + rest["entries"]] == applied[::-1]


def test_statement_shows_only_applied_transactions(client, make_wallet) -> None:
    make_wallet("carol")
    client.post("/wallets/deposit", json={"user_id": "carol", "amount": 5})
    assert client.get("/wallets/carol/statement").get_json() == {"entries": [], "has_more": False}


def test_statement_of_an_unknown_wallet(client) -> None:
    assert_problem(client.get("/wallets/ghost/statement"), 404, "wallet_not_found")


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "starting_after=0", "starting_after=abc", "type=deposit"])
def test_statement_query_is_validated(client, applied, query) -> None:
    assert_problem(client.get(f"/wallets/alice/statement?{query}"), 400, "validation_failed")


def test_documented_entry_fields_are_the_fields_answered(client, applied) -> None:
    [entry] = client.get("/wallets/bob/statement?limit=1").get_json()["entries"]
    assert set(entry) == set(EntrySchema().fields)
