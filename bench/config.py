"""Every knob of ``python -m bench``, read from the environment here and nowhere else in ``bench/``.

The bench runs its own system against its own database and Redis db, derived from DATABASE_URL and
REDIS_URL (same server, database ``wallet_bench``, Redis db 9), so a run never touches dev data and
two runs on the same machine start from the same state. The API and the workers read none of these
names: they get DATABASE_URL, REDIS_URL and API_PORT from the bench when it starts them.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import settings
from devtools.databases import with_database, with_redis_db
from ledger.db import normalize_url

BENCH_DIR = Path(__file__).resolve().parent
# poll follows single_uniform: it compares its write path with single_uniform's of the same run.
ALL_WORKLOADS = ("single_uniform", "poll", "single_hot", "single_paced", "reads", "batch_uniform", "batch_hot")


def _optional_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value else None


@dataclass(frozen=True)
class BenchConfig:
    database_url: str
    redis_url: str
    # pgbench gets a database of its own on the same server: its tables never mix with the ledger's.
    pgbench_database: str = "wallet_pgbench"
    api_port: int = 8100
    # The synchronous baseline's gunicorn, next to the API.
    baseline_port: int = 8101
    # Drop, create and migrate ``database_url`` before the run. The smoke test turns this off and
    # hands the bench a test database its fixtures have already built.
    recreate_database: bool = True

    seconds: float = 20.0
    wallets: int = 10_000
    workloads: tuple[str, ...] = ALL_WORKLOADS
    # Optional cap on transactions per workload (the smoke test sends a few dozen). wrk cannot stop
    # at a count, so a capped run drives every workload with the asyncio client.
    transactions: int | None = None
    # Requests through the key check and limiter (and as many around them) to price them.
    auth_requests: int = 10_000
    # Use wrk for the single-request and read workloads when it is installed.
    use_wrk: bool = True
    # wrk: closed loop, this many connections over this many threads (the measurement).
    wrk_connections: int = 32
    wrk_threads: int = 2
    # poll: this many more wrk connections polling while single_uniform's load writes.
    poll_connections: int = 32
    # poll: reads of a transaction made in-process to price the poll's PostgreSQL read (bench.read_cost).
    poll_reads: int = 2000
    # single_paced offers this fraction of the baseline's single_uniform maximum, open loop.
    paced_fraction: float = 0.5
    # The rate single_paced offers when single_uniform did not run first.
    paced_rate: float = 300.0

    batch_items: int = 1000
    # Two batch requests in flight: one being inserted while the next is parsed, without letting the
    # client take a core from a 2-core server.
    batch_concurrency: int = 2
    # Requests in flight at most in the asyncio single-request client. The cap only matters when the
    # server falls behind, and then the offered rate drops (reported as offered_per_s).
    single_in_flight: int = 64
    # Each wallet starts with 1,000,000 cents; transfers move 1..1,000 cents, so no uniform
    # workload runs a wallet dry and rejections would point at a bug, not at the workload.
    opening_deposit: int = 1_000_000
    max_amount: int = 1000
    # One ledger worker over all 16 partitions: two, on these two cores, applied batches slower and
    # far later, their batches waiting on each other's wallet row locks (docs/performance.md).
    ledger_workers: int = 1

    pgbench_scale: int = 10
    pgbench_clients: int = 8
    pgbench_threads: int = 2
    pgbench_seconds: float = 20.0

    results_path: Path = BENCH_DIR / "results" / "latest.json"
    log_dir: Path = BENCH_DIR / "results" / "logs"
    # Extra environment for the processes the bench starts (on top of this process's environment).
    process_env: dict[str, str] = field(default_factory=dict)

    @property
    def database_name(self) -> str:
        return normalize_url(self.database_url).database

    @classmethod
    def from_environment(cls) -> "BenchConfig":
        seconds = float(os.environ.get("BENCH_SECONDS", 20))
        workloads = tuple(
            name.strip() for name in os.environ.get("BENCH_WORKLOADS", ",".join(ALL_WORKLOADS)).split(",") if name
        )
        unknown = set(workloads) - set(ALL_WORKLOADS)
        if unknown:
            raise ValueError(f"BENCH_WORKLOADS: unknown {sorted(unknown)}; known: {', '.join(ALL_WORKLOADS)}")
        return cls(
            database_url=os.environ.get(
                "BENCH_DATABASE_URL",
                with_database(settings.DATABASE_URL, "wallet_bench"),
            ),
            redis_url=os.environ.get("BENCH_REDIS_URL", with_redis_db(settings.REDIS_URL, 9)),
            pgbench_database=os.environ.get("BENCH_PGBENCH_DATABASE", "wallet_pgbench"),
            api_port=int(os.environ.get("BENCH_API_PORT", 8100)),
            baseline_port=int(os.environ.get("BENCH_BASELINE_PORT", 8101)),
            seconds=seconds,
            wallets=int(os.environ.get("BENCH_WALLETS", 10_000)),
            workloads=workloads,
            transactions=_optional_int("BENCH_TRANSACTIONS"),
            paced_rate=float(os.environ.get("BENCH_PACED_RATE", 300)),
            poll_connections=int(os.environ.get("BENCH_POLL_CONNECTIONS", 32)),
            ledger_workers=int(os.environ.get("BENCH_LEDGER_WORKERS", 1)),
            pgbench_seconds=seconds,
        )
