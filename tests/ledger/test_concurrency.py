"""Two OS processes applying at once: no deadlock surfaces, nothing applied twice, money conserved."""

import random
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.accept import TransactionRequest as Req
from ledger.accept import create_wallet
from ledger.db import make_engine, make_session_factory
from ledger.invariants import verify
from ledger.partitions import partition_of
from ledger.posting import drain_partitions
from tests.conftest import TEST_CLIENT

PARTITIONS = 2


def drain_in_process(database_url: str, partition: int, batch_size: int) -> tuple[list[str], list[str]]:
    """Runs in a child process: its own engine, its own connections, the real engine code."""
    engine = make_engine(database_url)
    result = drain_partitions(make_session_factory(engine), [partition], batch_size=batch_size, max_seconds=300)
    engine.dispose()
    return [str(i) for i in result.applied], [str(i) for i in result.rejected]


def _run_two(database_url: str, partitions: tuple[int, int], batch_size: int) -> list[tuple[list[str], list[str]]]:
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(drain_in_process, database_url, p, batch_size) for p in partitions]
        return [f.result(timeout=300) for f in futures]


def _funded_wallets(session: Session, queue, drain, count: int, amount: int) -> list[str]:
    users = [f"u{i:03d}" for i in range(count)]
    for user in users:
        create_wallet(session, TEST_CLIENT, user, "user")
    session.commit()
    queue(*(Req("deposit", "deposit-provider-master", u, amount) for u in users), partitions=PARTITIONS)
    for partition in range(PARTITIONS):
        drain(partition)
    return users


def _money_outside_world(session: Session) -> int:
    return session.execute(text("SELECT sum(balance) FROM wallets WHERE acnt_type <> 'system'")).scalar_one()


def test_two_processes_on_different_partitions(session: Session, database_url: str, queue, drain) -> None:
    users = _funded_wallets(session, queue, drain, 200, 10_000)
    hot = users[0]
    rng = random.Random(2026)
    requests = []
    for _ in range(10_500):
        payer = rng.choice(users[1:])
        payee = hot if rng.random() < 0.7 else rng.choice([u for u in users if u != payer])
        if rng.random() < 0.05:
            payer, payee = hot, rng.choice(users[1:])
        requests.append(Req("transfer", payer, payee, rng.randint(1, 3_000)))
    crossing = {(partition_of(r.debit_user_id, 2), partition_of(r.credit_user_id, 2)) for r in requests}
    assert {(0, 1), (1, 0)} <= crossing, "the workload must cross partitions in both directions"
    ids = queue(*requests, partitions=PARTITIONS)
    money_before = _money_outside_world(session)

    results = _run_two(database_url, (0, 1), batch_size=250)

    decided = [i for applied, rejected in results for i in applied + rejected]
    assert sorted(decided) == sorted(str(i) for i in ids)
    assert session.execute(text("SELECT count(*) FROM transactions WHERE status = 'queued'")).scalar_one() == 0
    assert _money_outside_world(session) == money_before
    report = verify(session)
    assert report.ok, report.problems


def test_two_processes_on_the_same_partition(session: Session, database_url: str, queue, drain) -> None:
    users = _funded_wallets(session, queue, drain, 20, 5_000)
    rng = random.Random(7)
    ids = queue(*(Req("transfer", *rng.sample(users, 2), rng.randint(1, 2_000)) for _ in range(3_000)))

    results = _run_two(database_url, (0, 0), batch_size=100)

    applied = [i for a, _ in results for i in a]
    decided = [i for a, r in results for i in a + r]
    assert len(decided) == len(set(decided)) == len(ids), "a transaction was decided twice"
    applied_rows = session.execute(
        text("SELECT count(*) FROM transactions WHERE status = 'applied' AND type = 'transfer'")
    ).scalar_one()
    assert applied_rows == len(applied)
    report = verify(session)
    assert report.ok, report.problems
