"""One whole bench run: pgbench, a fresh system, funded wallets, each workload, verify, the results.

Order matters for honest numbers: pgbench runs first on a quiet machine; each workload starts only
when the previous one is fully applied, and its Celery counters and memory peaks are reset at its
start, so nothing leaks from one workload into the next.
"""

import asyncio
import time
import zlib

from sqlalchemy import Engine, text

import settings
from bench import counters
from bench.config import BenchConfig
from bench.load import LoadResult, offer_at_rate, offer_batches
from bench.machine import describe
from bench.memory import PeakMemory, session_members
from bench.outcomes import last_seq, outcome, wait_until_decided
from bench.pgbench import pgbench_tps
from bench.progress import Progress
from bench.report import write
from bench.system import System, flush_redis
from bench.workloads import WORKLOADS, Workload, funding_factory, request_factory, wallet_ids
from devtools.databases import fresh_database
from ledger.db import make_engine, make_session_factory
from ledger.invariants import verify

# How long the workers may take to catch up after a workload's requests are all answered.
MIN_DRAIN_TIMEOUT = 120.0


class Bench:
    """The state one run shares between its steps: configuration, database, system, display."""

    def __init__(self, config: BenchConfig, engine: Engine, progress: Progress) -> None:
        self.config = config
        self.engine = engine
        self.progress = progress
        self.users = wallet_ids(config.wallets)
        self.system: System | None = None
        self.memory: PeakMemory | None = None

    @property
    def drain_timeout(self) -> float:
        return max(MIN_DRAIN_TIMEOUT, 10 * self.config.seconds)

    def create_wallets(self) -> None:
        """Insert the user wallets in one statement: a new wallet is one row, with no history to fake."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO wallets (user_id, acnt_type)"
                    " SELECT unnest(CAST(:users AS text[])), 'user' ON CONFLICT (user_id) DO NOTHING"
                ),
                {"users": self.users},
            )

    def fund_wallets(self) -> None:
        """Every wallet gets its opening deposit through the API, in batches the workers apply."""
        config = self.config
        low = last_seq(self.engine)
        load = asyncio.run(
            offer_batches(
                self.system.api_url,
                funding_factory(self.users, config.opening_deposit),
                batch_items=config.batch_items,
                concurrency=config.batch_concurrency,
                seconds=None,
                cap=len(self.users),
                on_tick=lambda r: self.progress.update("funding", r.allotted / len(self.users), _sent(r)),
            )
        )
        self._wait_until_decided("funding")
        funded = outcome(self.engine, low, last_seq(self.engine))
        if load.failures or funded.applied != len(self.users):
            raise RuntimeError(
                f"funding: {funded.applied} of {len(self.users)} deposits applied, failures {dict(load.failures)}"
            )
        self.progress.done("funding", f"{len(self.users):,} wallets funded with {config.opening_deposit:,} cents each")

    def run_workload(self, workload: Workload, pgbench: float) -> dict:
        config = self.config
        self.system.check_running()
        low = last_seq(self.engine)
        before = counters.read(config.redis_url)
        self.memory.reset()
        cpu, wall = time.process_time(), time.monotonic()
        load = asyncio.run(self._offer(workload))
        # Cores the client itself used while sending: what it took from the server on this machine.
        client_cores = (time.process_time() - cpu) / (time.monotonic() - wall)
        high = last_seq(self.engine)
        self._wait_until_decided(workload.name)
        self.memory.sample()
        self.system.check_running()
        spent = counters.read(config.redis_url) - before
        result = outcome(self.engine, low, high)
        sent_seconds = max(load.sent_until - load.started, 1e-9)
        document = {
            "transactions": result.transactions,
            "applied": result.applied,
            "queued": result.queued,
            # Batches are sent closed-loop (as fast as accepted), so only the single workloads have an offered rate.
            "offered_per_s": None if workload.batched else round(load.allotted / sent_seconds, 1),
            "accepted_per_s": round(load.accepted / load.seconds, 1),
            "applied_per_s": round(result.applied_per_s, 1),
            "p50_ms": result.p50_ms,
            "p95_ms": result.p95_ms,
            "p99_ms": result.p99_ms,
            # None, not 0, when the workers did not count: a missing counter must not look like a win.
            "tasks_per_txn": round(spent.drains / result.transactions, 4) if spent.drains else None,
            "wakeups_per_txn": round(spent.wakeups / result.transactions, 4) if spent.wakeups else None,
            "rejected": result.rejected,
            "http_errors": dict(load.failures),
            "rss_mb": self.memory.megabytes(),
            "client_cpu_cores": round(client_cores, 2),
            "pgbench_ratio": round(result.applied_per_s / pgbench, 3) if pgbench else None,
        }
        self.progress.done(
            workload.name,
            f"{result.applied:,} applied, {document['applied_per_s']:,.0f}/s, p99 {result.p99_ms} ms",
        )
        return document

    async def _offer(self, workload: Workload) -> LoadResult:
        config = self.config
        factory = request_factory(workload, self.users, config.max_amount, seed=zlib.crc32(workload.name.encode()))

        def tick(load: LoadResult) -> None:
            self.memory.sample()
            fraction = load.allotted / config.transactions if config.transactions else 0.0
            if load.started:
                fraction = max(fraction, (load.sent_until - load.started) / config.seconds)
            self.progress.update(workload.name, fraction, _sent(load))

        if workload.batched:
            return await offer_batches(
                self.system.api_url,
                factory,
                batch_items=config.batch_items,
                concurrency=config.batch_concurrency,
                seconds=config.seconds,
                cap=config.transactions,
                on_tick=tick,
            )
        return await offer_at_rate(
            self.system.api_url,
            factory,
            rate=config.single_rate,
            seconds=config.seconds,
            cap=config.transactions,
            in_flight=config.single_in_flight,
            on_tick=tick,
        )

    def _wait_until_decided(self, label: str) -> None:
        def poll(queued: int) -> None:
            if self.memory is not None:
                self.memory.sample()
            self.progress.update(label, None, f"waiting for the workers: {queued:,} queued")

        wait_until_decided(self.engine, self.drain_timeout, poll)


def run_benchmark(config: BenchConfig, progress: Progress | None = None) -> dict:
    """Run every configured workload against a system of the bench's own; write and return the results."""
    progress = progress or Progress()
    progress.update(
        "pgbench", None, f"-s {config.pgbench_scale} -c {config.pgbench_clients}, {config.pgbench_seconds:g}s"
    )
    tps = pgbench_tps(
        config.database_url,
        config.pgbench_database,
        scale=config.pgbench_scale,
        clients=config.pgbench_clients,
        threads=config.pgbench_threads,
        seconds=config.pgbench_seconds,
    )
    progress.done("pgbench", f"{tps:,.0f} tps")
    if config.recreate_database:
        fresh_database(config.database_url)
    flush_redis(config.redis_url)
    engine = make_engine(config.database_url)
    try:
        bench = Bench(config, engine, progress)
        bench.create_wallets()
        workloads = {}
        with System(config) as system:
            bench.system = system
            processes = _process_counts(system)
            bench.fund_wallets()
            bench.memory = PeakMemory(system.roles())
            for name in config.workloads:
                workloads[name] = bench.run_workload(WORKLOADS[name], tps)
        with make_session_factory(engine)() as session:
            checked = verify(session)
        document = {
            "machine": describe(engine, config.redis_url),
            "system": {
                "partitions": settings.PARTITIONS,
                "apply_batch_size": settings.APPLY_BATCH_SIZE,
                "processes": processes,
                "wallets": config.wallets,
                "seconds": config.seconds,
                "single_rate": config.single_rate,
                "batch_items": config.batch_items,
            },
            "pgbench_tps": round(tps, 1),
            "verify": checked.ok,
            "verify_problems": checked.problems,
            "verify_summary": checked.summary,
            "workloads": workloads,
        }
    finally:
        engine.dispose()
    write(document, config.results_path)
    return document


def _process_counts(system: System) -> dict[str, int]:
    members = session_members({pid for pids in system.roles().values() for pid in pids})
    return {role: sum(1 for s in members.values() if s in pids) for role, pids in system.roles().items()}


def _sent(load: LoadResult) -> str:
    failed = sum(load.failures.values())
    return f"sent {load.allotted:,} accepted {load.accepted:,}" + (f" failed {failed:,}" if failed else "")
