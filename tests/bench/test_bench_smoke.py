"""The bench machinery end to end, on a few dozen transactions per workload, against real processes.

No timing assertion: numbers measured on a busy test machine mean nothing. What must hold is that
every transaction the bench sent was applied, the results document has every field, the workers'
task counters were read, and verify passed.
"""

import io
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, create_engine, make_url, text

from bench.benchmark import run_benchmark
from bench.config import ALL_WORKLOADS, BenchConfig
from bench.progress import Progress
from bench.workloads import WORKLOADS

PER_WORKLOAD = 50
WALLETS = 40
WORKLOAD_FIELDS = {
    "accepted_per_s",
    "applied_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "tasks_per_txn",
    "rejected",
    "rss_mb",
    "pgbench_ratio",
    "cpu_ms_per_txn",
    "applied_per_second",
    "latency_ms_quantiles",
}
READS = {"health", "transaction", "wallet", "baseline_wallet"}


@pytest.fixture
def pgbench_database(database_url: str) -> Iterator[str]:
    """A throwaway database for pgbench next to the test database, dropped afterwards."""
    url = make_url(database_url)
    name = f"{url.database}_pgbench"
    yield name
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def smoke_config(
    clean_db: Engine, clean_redis: redis.Redis, database_url: str, pgbench_database: str, tmp_path: Path
) -> BenchConfig:
    """The bench pointed at the test database and Redis (already built and emptied by the fixtures)."""
    return BenchConfig(
        database_url=database_url,
        # tests/conftest.py points REDIS_URL at the test Redis db, which clean_redis has emptied.
        redis_url=os.environ["REDIS_URL"],
        pgbench_database=pgbench_database,
        api_port=_free_port(),
        baseline_port=_free_port(),
        recreate_database=False,
        seconds=10,
        wallets=WALLETS,
        transactions=PER_WORKLOAD,
        auth_requests=100,
        pgbench_scale=1,
        pgbench_clients=2,
        pgbench_threads=1,
        pgbench_seconds=1,
        results_path=tmp_path / "latest.json",
        log_dir=tmp_path / "logs",
    )


def test_bench_applies_every_transaction_and_reports_every_field(smoke_config: BenchConfig, clean_db: Engine) -> None:
    returned = run_benchmark(smoke_config, Progress(io.StringIO()))

    document = json.loads(smoke_config.results_path.read_text())
    assert document == returned
    assert document["verify"] is True, document["verify_problems"]
    assert {"cores", "memory_mb", "python", "postgres"} <= set(document["machine"])
    assert document["pgbench_tps"] > 0
    assert list(document["workloads"]) == list(ALL_WORKLOADS)
    # Every request authenticated (no 401 among the http_errors below), and the price of it measured.
    assert document["auth"]["requests"] == 100
    assert {"api_ms_per_request", "redis_ms_per_request", "postgres_ms_per_request"} <= set(document["auth"])
    # The plots, beside the results.
    assert {"applied_per_second.png", "latency.png"} <= {p.name for p in smoke_config.results_path.parent.iterdir()}
    # A capped run has no wrk, and the pollers need it (docs/performance.md).
    assert "skipped" in document["workloads"].pop("poll")
    reads = document["workloads"].pop("reads")
    assert set(reads) == READS
    for name, read in reads.items():
        assert read["per_s"] > 0 and read["http_errors"] == {}, (name, read)
        assert "total" in read["cpu_ms_per_request"], name
        # None only where a few dozen requests stayed under a clock tick.
        assert read["health_cpu_ratio"] is None or read["health_cpu_ratio"] > 0, name
    for name, result in document["workloads"].items():
        assert set(result) >= WORKLOAD_FIELDS, name
        # CPU by role, read from /proc (a few dozen transactions may stay under a clock tick).
        assert {"api", "worker", "postgres", "redis", "loadgen", "total"} <= set(result["cpu_ms_per_txn"]), name
        if WORKLOADS[name].kind == "single":
            # The synchronous baseline took the same load first, and answered it.
            assert result["baseline"]["per_s"] > 0 and result["baseline"]["http_errors"] == {}, name
        assert result["transactions"] == result["applied"] == PER_WORKLOAD, (name, result)
        assert result["queued"] == 0, name
        assert result["rejected"] == {} and result["http_errors"] == {}, (name, result)
        assert result["p99_ms"] is not None and result["p50_ms"] <= result["p99_ms"], name
        assert sum(result["applied_per_second"]) == PER_WORKLOAD, name
        # Counted by the workers in Redis: None would mean the drain task never reported. A drain
        # still lingering from the workload before may have served this one without a new task.
        assert result["tasks_per_txn"] is not None and result["tasks_per_txn"] >= 0, name
        assert result["rss_mb"]["api"] > 0 and result["rss_mb"]["worker"] > 0, name
        # The paced workload says what rate it was asked for, beside what it managed to offer.
        paced = name == "single_paced"
        assert (result["asked_per_s"] is not None and result["asked_per_s"] > 0) == paced, name
        assert (result["offered_per_s"] is not None) == paced, name
    with clean_db.connect() as conn:
        statuses = {
            status: count
            for status, count in conn.execute(text("SELECT status, count(*) FROM transactions GROUP BY status"))
        }
    # Opening balance + one deposit per wallet + every workload's transactions, nothing left queued.
    assert statuses == {"applied": 1 + WALLETS + PER_WORKLOAD * len(document["workloads"])}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
