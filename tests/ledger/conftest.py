"""Ledger fixtures: funded wallets and a queue-then-drain helper, all through the ledger itself."""

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from ledger.accept import TransactionRequest, create_wallet, record_transactions
from ledger.opening import open_balance
from ledger.posting import DrainResult, drain_partitions
from tests.conftest import TEST_CLIENT


@pytest.fixture
def make_wallet(session: Session) -> Callable[..., str]:
    def make(user_id: str, balance: int = 0, *, status: str = "active", currency: str = "USD") -> str:
        create_wallet(session, TEST_CLIENT, user_id, "user", currency)
        if balance:
            open_balance(session, TEST_CLIENT, user_id, balance)
        if status != "active":
            session.execute(text("UPDATE wallets SET status = :s WHERE user_id = :u"), {"s": status, "u": user_id})
        session.commit()
        return user_id

    return make


@pytest.fixture
def queue(session: Session) -> Callable[..., list]:
    """Record requests (partition count 1, so every row lands in partition 0) and commit."""

    def record(*requests: TransactionRequest, partitions: int = 1) -> list:
        accepted = record_transactions(session, TEST_CLIENT, list(requests), partitions)
        session.commit()
        return [a.id for a in accepted]

    return record


@pytest.fixture
def drain(session_factory: sessionmaker[Session]) -> Callable[..., DrainResult]:
    def run(partition: int = 0, batch_size: int = 1000) -> DrainResult:
        return drain_partitions(session_factory, [partition], batch_size=batch_size, max_seconds=60)

    return run


def balance(session: Session, user_id: str) -> int:
    return session.execute(text("SELECT balance FROM wallets WHERE user_id = :u"), {"u": user_id}).scalar_one()


def statuses(session: Session, ids: list) -> list[tuple[str, str | None]]:
    rows = dict(
        (row.id, (row.status, row.failure_code))
        for row in session.execute(
            text("SELECT id, status, failure_code FROM transactions WHERE id = ANY(:ids)"), {"ids": ids}
        )
    )
    return [rows[i] for i in ids]
