"""The seed's curl walkthrough and the business rejections, through the API with real workers.

Each test ends with the ledger's invariant checker: whatever the outcome, the books balance.
"""

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from api import close_app, create_app
from ledger.invariants import verify
from tests.conftest import with_key

DEPOSIT_FLOAT = 999_999_999_999
# Long enough for a worker to decide a transaction on a loaded machine; a decided one returns at once.
WAIT = {"Prefer": "wait=20"}


@pytest.fixture
def client(ledger_workers, database_url: str, api_key: str) -> Iterator[FlaskClient]:
    app = create_app({"DATABASE_URL": database_url})
    yield with_key(app.test_client(), api_key)
    close_app(app)


@pytest.fixture(autouse=True)
def books_balance(ledger_workers, session) -> Iterator[None]:
    yield
    report = verify(session)
    assert report.ok, report.problems


def balances(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text("SELECT user_id, balance FROM wallets WHERE acnt_type NOT IN ('system', 'holding')")
            ).all()
        )


def decided(client: FlaskClient, response) -> dict:
    """The transaction a 202 promised, once a worker has applied or rejected it."""
    assert response.status_code == 202, response.get_json()
    transaction = client.get(response.headers["Location"], headers=WAIT).get_json()
    assert transaction["status"] != "queued", transaction
    return transaction


def open_and_fund(client: FlaskClient, user_id: str, amount: int) -> None:
    assert client.post("/users", json={"user_id": user_id, "acnt_type": "user"}).status_code == 201
    deposit = client.post("/wallets/deposit", json={"user_id": user_id, "amount": amount})
    assert decided(client, deposit)["status"] == "applied"


def test_seed_walkthrough(client, engine) -> None:
    assert client.post("/users", json={"user_id": "test-user", "acnt_type": "user"}).status_code == 201
    deposit = client.post("/wallets/deposit", json={"user_id": "test-user", "amount": 10000})
    assert decided(client, deposit)["status"] == "applied"
    wallet = client.get("/wallets/test-user").get_json()
    assert wallet["wallet"]["balance"] == 10000
    assert [t["status"] for t in wallet["transactions"]] == ["applied"]
    assert client.post("/users", json={"user_id": "test-user-2", "acnt_type": "user"}).status_code == 201
    body = {"from_user_id": "test-user", "to_user_id": "test-user-2", "amount": 2500}
    transfer = client.post("/wallets/transfer", json=body)
    assert decided(client, transfer)["status"] == "applied"
    assert balances(engine) == {
        "test-user": 7500,
        "test-user-2": 2500,
        "deposit-provider-master": DEPOSIT_FLOAT - 10000,
        "withdraw-provider-master": 0,
    }


def test_overdraw_is_rejected_and_moves_nothing(client, engine) -> None:
    open_and_fund(client, "alice", 1000)
    withdrawal = decided(client, client.post("/wallets/withdraw", json={"user_id": "alice", "amount": 5000}))
    assert withdrawal["status"] == "rejected"
    assert withdrawal["failure"]["code"] == "insufficient_funds"
    assert withdrawal["applied_at"] is None and withdrawal["decided_at"] is not None
    assert balances(engine)["alice"] == 1000
    assert balances(engine)["withdraw-provider-master"] == 0


def test_inactive_wallet_is_rejected(client, engine) -> None:
    open_and_fund(client, "alice", 1000)
    with engine.begin() as conn:
        conn.execute(text("UPDATE wallets SET status = 'inactive' WHERE user_id = 'alice'"))
    withdrawal = decided(client, client.post("/wallets/withdraw", json={"user_id": "alice", "amount": 100}))
    assert withdrawal["status"] == "rejected"
    assert withdrawal["failure"]["code"] == "wallet_inactive"
    assert balances(engine)["alice"] == 1000


def test_prefer_wait_answers_200_once_applied(client, engine) -> None:
    client.post("/users", json={"user_id": "alice", "acnt_type": "user"})
    headers = {**WAIT, "Idempotency-Key": "deposit-42"}
    response = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 4200}, headers=headers)
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "wait=20"
    transaction = response.get_json()
    assert transaction["status"] == "applied"
    assert transaction["applied_at"] is not None and transaction["applied_at"] == transaction["decided_at"]
    # A retry of the applied request answers its final state and moves nothing again.
    again = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 4200}, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == transaction
    assert balances(engine)["alice"] == 4200


def test_hold_capture_and_reverse_through_the_workers(client, engine) -> None:
    open_and_fund(client, "alice", 1_000)
    assert client.post("/users", json={"user_id": "bob", "acnt_type": "user"}).status_code == 201
    hold = {"from_user_id": "alice", "to_user_id": "bob", "amount": 400, "hold": True}
    held = decided(client, client.post("/wallets/transfer", json=hold))
    assert held["status"] == "held"
    wallet = client.get("/wallets/alice").get_json()["wallet"]
    assert (wallet["balance"], wallet["held"], wallet["available"]) == (600, 400, 600)

    capture = decided(client, client.post(f"/transactions/{held['id']}/capture", json={"amount": 250}))
    assert capture["status"] == "applied"
    assert client.get(f"/transactions/{held['id']}").get_json()["status"] == "captured"
    assert balances(engine)["alice"] == 750 and balances(engine)["bob"] == 250

    reversal = decided(client, client.post(f"/transactions/{capture['id']}/reverse", json={"amount": 50}))
    assert reversal["status"] == "applied"
    assert balances(engine)["alice"] == 800 and balances(engine)["bob"] == 200
