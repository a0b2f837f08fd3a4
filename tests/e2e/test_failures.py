"""Failures in the middle of a storm: nothing lost, nothing applied twice."""

import time

import pytest

from api import create_app
from ledger.invariants import verify
from tests.e2e.workload import Storm, assert_every_request_applied_once, assert_money_conserved
from workers.wakeups import Wakeups

REQUESTS = 2_000
THREADS = 8
LAST_BURST = 200


@pytest.fixture
def storm(ledger_workers, beat, api_key) -> Storm:
    """A storm with the sweeper running every second, as a deployment runs beat."""
    storm = Storm(create_app(), api_key)
    storm.open_wallets()
    return storm


def test_worker_killed_mid_storm_loses_nothing_and_applies_nothing_twice(
    storm, ledger_workers, wait_until_drained, session, engine
):
    def kill_and_replace() -> None:
        # SIGKILL while it drains: no warm shutdown, its open batch is rolled back by PostgreSQL,
        # and its late-acked message is never acknowledged.
        ledger_workers.wait_until_draining(0)
        ledger_workers.kill(0)
        ledger_workers.start(0)

    storm.run(REQUESTS, THREADS, midway=kill_and_replace)
    wait_until_drained(timeout=180)

    assert storm.sent.count == REQUESTS + len(storm.users)
    assert_every_request_applied_once(engine, storm.sent)
    assert_money_conserved(engine)
    report = verify(session)
    assert report.ok, report.problems


def test_redis_flushed_mid_storm_sweeper_brings_every_transaction_home(
    storm, ledger_workers, clean_redis, wait_until_drained, session, engine
):
    def flush_for_a_while() -> None:
        # Every pending message and wake-up key is lost, again and again, while requests arrive.
        for _ in range(20):
            clean_redis.flushdb()
            time.sleep(0.02)

    storm.run(REQUESTS, THREADS, midway=flush_for_a_while)
    # A last burst whose wake-ups are certainly lost: the API cannot reach its broker, and no
    # drain is running, or waiting in a worker, to find the rows by chance.
    wait_until_drained(timeout=180)
    ledger_workers.wait_until_idle(clean_redis)
    storm.app.extensions["wakeups"] = Wakeups("redis://127.0.0.1:1/0", publish_timeout=0.2, ttl=30)
    storm.run(LAST_BURST, THREADS)
    wait_until_drained(timeout=180)

    assert storm.sent.count == REQUESTS + LAST_BURST + len(storm.users)
    assert_every_request_applied_once(engine, storm.sent)
    assert_money_conserved(engine)
    report = verify(session)
    assert report.ok, report.problems
    # Those last rows had no message left: the sweeper is what brought them home.
    assert "sweeper: waking stale partitions" in ledger_workers.log_text()
