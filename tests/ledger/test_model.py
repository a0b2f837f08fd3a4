"""Property: whatever the requests, the engine ends where a ten-line in-memory model ends."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from ledger.accept import TransactionRequest as Req
from ledger.accept import create_wallet, record_transactions
from ledger.invariants import verify
from ledger.opening import open_balance
from ledger.posting import drain_partitions
from tests.conftest import TEST_CLIENT

WALLETS = st.lists(
    st.tuples(st.integers(0, 500), st.sampled_from(["active", "active", "inactive"]), st.sampled_from(["USD", "EUR"])),
    min_size=2,
    max_size=5,
)
OPS = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(1, 400)), max_size=30)


def model(wallets: list[tuple[int, str, str]], ops: list[tuple[int, int, int]]) -> tuple[list[int], list[str]]:
    balances, outcomes = [w[0] for w in wallets], []
    for payer, payee, amount in ops:
        if wallets[payer][1] != "active" or wallets[payee][1] != "active":
            outcomes.append("wallet_inactive")
        elif wallets[payer][2] != wallets[payee][2]:
            outcomes.append("currency_mismatch")
        elif balances[payer] < amount:
            outcomes.append("insufficient_funds")
        else:
            balances[payer] -= amount
            balances[payee] += amount
            outcomes.append("applied")
    return balances, outcomes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wallets=WALLETS, ops=OPS, batch_size=st.integers(1, 7))
def test_engine_matches_model(
    session: Session, session_factory: sessionmaker[Session], wallets, ops, batch_size: int
) -> None:
    prefix = uuid.uuid4().hex[:8]
    names = [f"{prefix}-{i}" for i in range(len(wallets))]
    for name, (opening, _, currency) in zip(names, wallets, strict=True):
        create_wallet(session, TEST_CLIENT, name, "user", currency)
        if opening:
            open_balance(session, TEST_CLIENT, name, opening)
    for name, (_, status, _) in zip(names, wallets, strict=True):
        session.execute(text("UPDATE wallets SET status = :s WHERE user_id = :u"), {"s": status, "u": name})
    ops = [(a % len(names), b % len(names), amount) for a, b, amount in ops if a % len(names) != b % len(names)]
    requests = [Req("transfer", names[a], names[b], amount, currency=wallets[a][2]) for a, b, amount in ops]
    accepted = record_transactions(session, TEST_CLIENT, requests, partitions=1) if requests else []
    session.commit()

    drain_partitions(session_factory, [0], batch_size=batch_size, max_seconds=60)

    expected_balances, expected_outcomes = model(wallets, ops)
    rows = session.execute(
        text("SELECT user_id, balance FROM wallets WHERE user_id LIKE :p"), {"p": f"{prefix}-%"}
    ).all()
    assert [dict(rows)[n] for n in names] == expected_balances
    outcomes = session.execute(
        text("SELECT id, coalesce(failure_code, status) FROM transactions WHERE id = ANY(:ids)"),
        {"ids": [a.id for a in accepted]},
    ).all()
    assert [dict(outcomes)[a.id] for a in accepted] == expected_outcomes
    assert verify(session).ok
