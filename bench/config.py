"""Every knob of ``python -m bench``, read from the environment here and nowhere else in ``bench/``.

The bench runs its own system against its own database and Redis db, derived from DATABASE_URL and
REDIS_URL (same server, database ``wallet_bench``, Redis db 9), so a run never touches dev data and
two runs on the same machine start from the same state. The API and the workers read none of these
names: they get DATABASE_URL, REDIS_URL and API_PORT from the bench when it starts them.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import make_url

import settings

BENCH_DIR = Path(__file__).resolve().parent
ALL_WORKLOADS = ("single_uniform", "single_hot", "batch_uniform", "batch_hot")


def _redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


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
    # Drop, create and migrate ``database_url`` before the run. The smoke test turns this off and
    # hands the bench a test database its fixtures have already built.
    recreate_database: bool = True

    seconds: float = 20.0
    wallets: int = 10_000
    single_rate: float = 500.0
    workloads: tuple[str, ...] = ALL_WORKLOADS
    # Optional cap on transactions per workload (the smoke test sends a few dozen).
    transactions: int | None = None

    batch_items: int = 1000
    # Two batch requests in flight: one being inserted while the next is parsed, without letting the
    # client take a core from a 2-core server.
    batch_concurrency: int = 2
    # Requests in flight at most in the single-request workloads. At 500/s and a few ms per answer
    # about five are in flight; the cap only matters when the server falls behind, and then the
    # offered rate drops (reported as offered_per_s) instead of the client piling up sockets.
    single_in_flight: int = 64
    # Each wallet starts with 1,000,000 cents; transfers move 1..1,000 cents, so no uniform
    # workload runs a wallet dry and rejections would point at a bug, not at the workload.
    opening_deposit: int = 1_000_000
    max_amount: int = 1000
    ledger_workers: int = 2

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
        return make_url(self.database_url).database

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
                make_url(settings.DATABASE_URL).set(database="wallet_bench").render_as_string(hide_password=False),
            ),
            redis_url=os.environ.get("BENCH_REDIS_URL", _redis_db(settings.REDIS_URL, 9)),
            pgbench_database=os.environ.get("BENCH_PGBENCH_DATABASE", "wallet_pgbench"),
            api_port=int(os.environ.get("BENCH_API_PORT", 8100)),
            seconds=seconds,
            wallets=int(os.environ.get("BENCH_WALLETS", 10_000)),
            single_rate=float(os.environ.get("BENCH_SINGLE_RATE", 500)),
            workloads=workloads,
            transactions=_optional_int("BENCH_TRANSACTIONS"),
            pgbench_seconds=seconds,
        )
