"""A storm of mixed money movements sent through the HTTP API, and the checks that follow one.

Shared by test_storm.py and test_failures.py. Clients are Flask test clients of an in-process
``api.create_app()``, one per thread: the API code, the database and the broker are all real,
only the socket between client and server is skipped.
"""

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import Engine, text

from tests.conftest import with_key

DEPOSIT_PROVIDER = "deposit-provider-master"
WITHDRAW_PROVIDER = "withdraw-provider-master"
OPENING_DEPOSIT = 50_000


@dataclass
class Sent:
    """What the clients were told: every accepted request's transaction id, by idempotency key."""

    ids_by_key: dict[str, str] = field(default_factory=dict)
    replays: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str, transaction_id: str) -> None:
        with self.lock:
            self.ids_by_key[key] = transaction_id

    @property
    def count(self) -> int:
        return len(self.ids_by_key)


class Storm:
    """``wallets`` user wallets, one of them hot (in most transfers), hammered by ``threads`` clients."""

    def __init__(self, app: Flask, api_key: str, wallets: int = 50, seed: int = 2026) -> None:
        self.app, self.api_key = app, api_key
        self.users = [f"storm-{i:02d}" for i in range(wallets)]
        self.hot = self.users[0]
        self.seed = seed
        self.sent = Sent()

    def open_wallets(self) -> None:
        """Create every wallet and fund it with one deposit: ``2 * wallets`` requests."""
        client = with_key(self.app.test_client(), self.api_key)
        for user in self.users:
            response = client.post("/users", json={"user_id": user, "acnt_type": "user"})
            assert response.status_code == 201, response.get_data(as_text=True)
            self._send(client, "/wallets/deposit", {"user_id": user, "amount": OPENING_DEPOSIT})

    def run(self, requests: int, threads: int = 8, midway: Callable[[], None] | None = None) -> None:
        """Send ``requests`` mixed requests from ``threads`` threads.

        ``midway`` is called once half of them are accepted, while the clients keep sending.
        """
        per_thread = requests // threads
        halfway = self.sent.count + requests // 2
        failures: list[BaseException] = []

        def client_thread(number: int) -> None:
            rng = random.Random(self.seed * 100 + number)
            client = with_key(self.app.test_client(), self.api_key)
            try:
                for _ in range(per_thread):
                    self._send_random(client, rng)
            except BaseException as exc:  # re-raised by the main thread, which owns the test
                failures.append(exc)

        clients = [threading.Thread(target=client_thread, args=(n,)) for n in range(threads)]
        for client in clients:
            client.start()
        if midway:
            while self.sent.count < halfway and any(c.is_alive() for c in clients):
                time.sleep(0.005)
            midway()
        for client in clients:
            client.join(timeout=600)
        if failures:
            raise failures[0]

    def _send_random(self, client, rng: random.Random) -> None:
        amount = rng.randint(1, 5_000)
        others = self.users[1:]
        roll = rng.random()
        if roll < 0.2:
            sent = self._send(client, "/wallets/deposit", {"user_id": rng.choice(self.users), "amount": amount})
        elif roll < 0.35:
            sent = self._send(client, "/wallets/withdraw", {"user_id": rng.choice(self.users), "amount": amount})
        else:
            hot = rng.random()
            if hot < 0.5:  # most transfers pay the hot wallet
                payer, payee = rng.choice(others), self.hot
            elif hot < 0.6:  # and it pays some out
                payer, payee = self.hot, rng.choice(others)
            else:
                payer, payee = rng.sample(others, 2)
            body = {"from_user_id": payer, "to_user_id": payee, "amount": amount}
            sent = self._send(client, "/wallets/transfer", body)
        if rng.random() < 0.03:
            self._replay(client, *sent)

    def _send(self, client, path: str, body: dict, refusable: bool = False) -> tuple[str, dict, str, str] | None:
        """Post ``body`` with a fresh key; accepted (202) and recorded, or None if ``refusable`` and refused (409)."""
        key = str(uuid.uuid4())
        response = client.post(path, json=body, headers={"Idempotency-Key": key})
        if refusable and response.status_code == 409:
            return None
        assert response.status_code == 202, (path, body, response.status_code, response.get_data(as_text=True))
        transaction_id = response.get_json()["id"]
        self.sent.record(key, transaction_id)
        return path, body, key, transaction_id

    def _replay(self, client, path: str, body: dict, key: str, transaction_id: str) -> None:
        """A client retry after a lost response: same key, same body, so the same transaction back."""
        response = client.post(path, json=body, headers={"Idempotency-Key": key})
        assert response.status_code in (200, 202), response.get_data(as_text=True)
        assert response.get_json()["id"] == transaction_id
        assert response.headers.get("Idempotent-Replayed") == "true"
        with self.sent.lock:
            self.sent.replays += 1


class HoldStorm(Storm):
    """A storm of holds with their captures (whole or part) and voids, transfers, and reversals of
    earlier transfers, around the same hot wallet. A reversal of a transfer not applied yet, or
    already reversed whole, may be refused (409); everything else is accepted."""

    def __init__(self, app: Flask, api_key: str, wallets: int = 50, seed: int = 2026) -> None:
        super().__init__(app, api_key, wallets, seed)
        # Each accepted hold's id and amount.
        self.holds: list[tuple[str, int]] = []
        self.transfers: list[str] = []

    def _send_random(self, client, rng: random.Random) -> None:
        amount = rng.randint(1, 5_000)
        payer, payee = (self.hot, rng.choice(self.users[1:])) if rng.random() < 0.3 else rng.sample(self.users, 2)
        roll = rng.random()
        if roll < 0.35 or not self.holds:
            body = {"from_user_id": payer, "to_user_id": payee, "amount": amount, "hold": True}
            sent = self._send(client, "/wallets/transfer", body)
            with self.sent.lock:
                self.holds.append((sent[3], amount))
        elif roll < 0.55:
            hold, held = rng.choice(self.holds)
            body = {"amount": rng.randint(1, held)} if rng.random() < 0.5 else {}
            sent = self._send(client, f"/transactions/{hold}/capture", body)
        elif roll < 0.65:
            sent = self._send(client, f"/transactions/{rng.choice(self.holds)[0]}/void", {})
        elif roll < 0.75 and self.transfers:
            path = f"/transactions/{rng.choice(self.transfers)}/reverse"
            self._send(client, path, {"amount": rng.randint(1, 300)}, refusable=True)
            return
        else:
            sent = self._send(
                client, "/wallets/transfer", {"from_user_id": payer, "to_user_id": payee, "amount": amount}
            )
            with self.sent.lock:
                self.transfers.append(sent[3])
        if rng.random() < 0.03:
            self._replay(client, *sent)


def assert_every_request_applied_once(engine: Engine, sent: Sent) -> Counter:
    """Each accepted request is exactly one row, decided, with exactly its entries; returns statuses."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.id::text, t.idempotency_key, t.status, t.failure_code,"
                " (SELECT count(*) FROM entries e WHERE e.transaction_id = t.id) AS entries"
                " FROM transactions t WHERE t.type <> 'opening'"
            )
        ).all()
    by_key = {row.idempotency_key: row for row in rows}
    assert len(by_key) == len(rows), "two transactions share an idempotency key"
    assert {k: r.id for k, r in by_key.items()} == sent.ids_by_key
    assert Counter(row.entries for row in rows if row.status == "applied") == Counter(
        {2: sum(row.status == "applied" for row in rows)}
    )
    assert all(row.entries == 0 for row in rows if row.status != "applied")
    assert {row.status for row in rows} <= {"applied", "rejected"}
    assert {row.failure_code for row in rows if row.status == "rejected"} <= {"insufficient_funds"}
    return Counter(row.status for row in rows)


def assert_money_conserved(engine: Engine) -> None:
    """Balances replayed from the applied transactions alone equal the stored balances."""
    with engine.connect() as conn:
        expected = dict(
            conn.execute(
                text(
                    "SELECT w.id, coalesce(sum(CASE WHEN t.credit_wallet_id = w.id THEN t.amount"
                    " ELSE -t.amount END), 0)"
                    " FROM wallets w LEFT JOIN transactions t ON t.status = 'applied'"
                    " AND w.id IN (t.debit_wallet_id, t.credit_wallet_id) GROUP BY w.id"
                )
            ).all()
        )
        actual = dict(conn.execute(text("SELECT id, balance FROM wallets")).all())
        total = conn.execute(text("SELECT sum(balance) FROM wallets")).scalar_one()
    assert actual == expected
    assert total == 0
