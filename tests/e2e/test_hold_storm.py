"""Holds, captures, voids, transfers and reversals in one storm around a hot wallet, with a worker
killed halfway: every request decided once, every hold settled at most once, no reversal past its
original, and the books balanced to the cent (verify)."""

import pytest
from sqlalchemy import text

from api import create_app
from ledger.invariants import verify
from tests.e2e.workload import HoldStorm

REQUESTS = 1_600
THREADS = 8
FINAL = {"applied", "rejected", "held", "captured", "voided", "expired"}
FAILURES = {"insufficient_funds", "hold_not_pending", "reversal_exceeds_original"}


@pytest.fixture
def storm(ledger_workers, beat, api_key) -> HoldStorm:
    """With the sweeper every second, which wakes what the killed worker held (and expires holds)."""
    storm = HoldStorm(create_app(), api_key, wallets=20)
    storm.open_wallets()
    return storm


def test_a_storm_of_holds_and_reversals_with_a_worker_killed(
    storm, ledger_workers, wait_until_drained, session, engine
) -> None:
    def kill_and_replace() -> None:
        ledger_workers.wait_until_draining(0)
        ledger_workers.kill(0)
        ledger_workers.start(0)

    # A first half whose transfers the second half can reverse, once they are applied.
    storm.run(REQUESTS // 2, THREADS)
    wait_until_drained(timeout=180)
    storm.run(REQUESTS // 2, THREADS, midway=kill_and_replace)
    wait_until_drained(timeout=180)

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT idempotency_key, id::text, type, status, failure_code FROM transactions"
                " WHERE client_id = 'tests' AND type <> 'opening'"
            )
        ).all()
    by_key = {row.idempotency_key: row for row in rows}
    assert len(by_key) == len(rows), "two transactions share an idempotency key"
    assert {key: row.id for key, row in by_key.items()} == storm.sent.ids_by_key
    assert {row.status for row in rows} <= FINAL
    assert {row.failure_code for row in rows if row.failure_code} <= FAILURES
    kinds = {(row.type, row.status) for row in rows}
    # The storm did what it is for: holds settled both ways, and reversals applied.
    assert {("transfer", "captured"), ("transfer", "voided"), ("capture", "applied"), ("reversal", "applied")} <= kinds
    report = verify(session)
    assert report.ok, report.problems
