"""Drain and sweep tasks run by real ``celery worker`` processes against the test database."""

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

import settings
from ledger.accept import TransactionRequest, create_wallet, record_transactions
from ledger.invariants import verify
from ledger.partitions import partition_of
from tests.conftest import TEST_CLIENT
from tests.fixtures.services import FAST_SWEEP_ENV, LedgerWorkers, wait_until_no_queued
from workers.tasks import wakeups
from workers.wakeups import wake_key

PROVIDER = "deposit-provider-master"


def accept(session: Session, requests: list[TransactionRequest]) -> list:
    """What the API does: record, commit, then wake the partitions of the rows."""
    accepted = record_transactions(session, TEST_CLIENT, requests, settings.PARTITIONS)
    session.commit()
    return accepted


def users(session: Session, count: int) -> list[str]:
    names = [f"user-{i:03d}" for i in range(count)]
    for name in names:
        create_wallet(session, TEST_CLIENT, name, "user")
    session.commit()
    return names


def statuses(session: Session) -> dict[str, int]:
    rows = session.execute(text("SELECT status, count(*) FROM transactions WHERE type <> 'opening' GROUP BY status"))
    return dict(rows.all())


def test_woken_partitions_are_drained(ledger_workers, session, engine):
    names = users(session, 20)
    transactions = accept(session, [TransactionRequest("deposit", PROVIDER, u, 1_000) for u in names])
    # Every deposit debits the provider, so one partition holds them all.
    assert {t.partition for t in transactions} == {partition_of(PROVIDER, settings.PARTITIONS)}
    wakeups.wake({t.partition for t in transactions})

    wait_until_no_queued(engine, timeout=60)
    assert statuses(session) == {"applied": 20}
    assert verify(session).ok
    assert ledger_workers.tasks_run("workers.tasks.drain") >= 1


def test_rows_without_a_wakeup_wait_for_the_sweeper(ledger_workers, beat, session, engine, clean_redis):
    names = users(session, 5)
    transactions = accept(session, [TransactionRequest("deposit", PROVIDER, u, 500) for u in names])
    # A stale key, as a lost message leaves it: coalescing alone would never wake this partition.
    clean_redis.set(wake_key(transactions[0].partition), 1)

    wait_until_no_queued(engine, timeout=60)
    assert statuses(session) == {"applied": 5}
    assert ledger_workers.tasks_run("workers.tasks.sweep") >= 1


def test_drain_out_of_time_wakes_itself_again(clean_db, clean_redis, session, engine, tmp_path: Path):
    # Batches of 10 and no time budget: each drain applies one batch and must re-wake itself.
    workers = LedgerWorkers(2, tmp_path, {**FAST_SWEEP_ENV, "APPLY_BATCH_SIZE": "10", "DRAIN_MAX_SECONDS": "0"})
    workers.start()
    try:
        names = users(session, 3)
        requests = [TransactionRequest("deposit", PROVIDER, names[i % 3], 100 + i) for i in range(95)]
        transactions = accept(session, requests)
        wakeups.wake({t.partition for t in transactions})

        wait_until_no_queued(engine, timeout=60)
        assert statuses(session) == {"applied": 95}
        assert workers.tasks_run("workers.tasks.drain") >= 10
        assert verify(session).ok
    finally:
        workers.stop()


def test_sigterm_is_a_clean_warm_shutdown(ledger_workers):
    ledger_workers.stop(0)
    assert ledger_workers.processes[0].popen.returncode == 0
    assert ledger_workers.running_names() == [ledger_workers.names[1]]
