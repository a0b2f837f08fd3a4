"""Reads: a wallet with its latest transactions, polling one transaction, and cursor pages."""

import uuid

import pytest

from tests.api.problems import assert_problem


@pytest.fixture
def deposits(client, make_wallet) -> list[str]:
    """Five deposits to alice and one to bob, oldest first; returns alice's transaction ids."""
    make_wallet("alice")
    make_wallet("bob")
    ids = [
        client.post("/wallets/deposit", json={"user_id": "alice", "amount": n}).get_json()["id"] for n in range(1, 6)
    ]
    client.post("/wallets/deposit", json={"user_id": "bob", "amount": 99})
    return ids


def test_open_a_wallet(client, count) -> None:
    response = client.post("/users", json={"user_id": "test-user", "acnt_type": "user"})
    assert response.status_code == 201
    wallet = response.get_json()
    assert {k: wallet[k] for k in ("user_id", "acnt_type", "currency", "status", "balance")} == {
        "user_id": "test-user",
        "acnt_type": "user",
        "currency": "USD",
        "status": "active",
        "balance": 0,
    }
    assert response.headers["Location"] == "/wallets/test-user"
    assert count("wallets") == 3


def test_open_a_provider_wallet_in_another_currency(client) -> None:
    response = client.post("/users", json={"user_id": "eu-bank", "acnt_type": "provider", "currency": "EUR"})
    assert response.status_code == 201
    assert (response.get_json()["acnt_type"], response.get_json()["currency"]) == ("provider", "EUR")


def test_wallet_shows_its_latest_transactions(client, deposits) -> None:
    body = client.get("/wallets/alice").get_json()
    assert body["wallet"]["user_id"] == "alice" and body["wallet"]["balance"] == 0
    assert [t["id"] for t in body["transactions"]] == deposits[::-1]
    assert body["has_more"] is False


def _pages(client, path: str, limit: int) -> list[dict]:
    pages, query = [], f"limit={limit}"
    while True:
        page = client.get(f"{path}{'&' if '?' in path else '?'}{query}").get_json()
        pages.append(page)
        if not page["has_more"]:
            return pages
        query = f"limit={limit}&starting_after={page['transactions'][-1]['id']}"


def test_wallet_transactions_by_pages(client, deposits) -> None:
    pages = _pages(client, "/wallets/alice/transactions", limit=2)
    assert [len(p["transactions"]) for p in pages] == [2, 2, 1]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [t["id"] for p in pages for t in p["transactions"]] == deposits[::-1]


def test_all_transactions_filtered_by_type_and_status(client, deposits) -> None:
    pages = _pages(client, "/transactions?type=deposit&status=queued", limit=4)
    ids = [t["id"] for p in pages for t in p["transactions"]]
    assert len(ids) == 6 and set(deposits) < set(ids)
    assert [len(p["transactions"]) for p in pages] == [4, 2]
    assert client.get("/transactions?status=applied&type=deposit").get_json() == {"transactions": [], "has_more": False}


def test_exact_page_has_no_more(client, deposits) -> None:
    page = client.get("/wallets/alice/transactions?limit=5").get_json()
    assert len(page["transactions"]) == 5 and page["has_more"] is False


def test_unknown_cursor_is_refused(client, deposits) -> None:
    assert_problem(client.get(f"/transactions?starting_after={uuid.uuid4()}"), 400, "invalid_cursor")


def test_transactions_of_an_unknown_wallet(client) -> None:
    assert_problem(client.get("/wallets/ghost/transactions"), 404, "wallet_not_found")


@pytest.mark.parametrize("user_id", ["a%00b", "%00", "a%01b", "%ED%A0%80", "has%20space", "x" * 65, "caf%C3%A9"])
@pytest.mark.parametrize("tail", ["", "/transactions", "/statement"])
def test_user_id_outside_the_rule_in_a_path_is_an_unknown_wallet(client, deposits, user_id, tail) -> None:
    assert_problem(client.get(f"/wallets/{user_id}{tail}"), 404, "wallet_not_found")


def test_limit_above_100_is_refused(client) -> None:
    problem = assert_problem(client.get("/wallets/alice/transactions?limit=500"), 400, "validation_failed")
    assert list(problem["errors"]) == ["limit"]
