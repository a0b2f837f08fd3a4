"""One whole bench run: pgbench, a fresh system and its baseline, funded wallets, each workload, verify.

Order matters for honest numbers: pgbench runs first on a quiet machine; each workload starts only
when the previous one is fully applied; its Celery counters, memory peaks and CPU counters are
read around it, so nothing leaks from one workload into the next. Every single-request workload
runs against the synchronous baseline first, then against the system, with the same load
generator and the same wallets, and reports the ratio of the two.
"""

import asyncio
import math
import random
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, text

import settings
from bench import counters, wrk
from bench.auth_cost import auth_cost
from bench.baseline.schema import create_baseline
from bench.config import BenchConfig
from bench.cpu import Roles
from bench.load import LoadResult, offer_at_rate, offer_closed
from bench.machine import describe
from bench.memory import PeakMemory, session_members
from bench.outcomes import last_seq, outcome, wait_until_decided
from bench.pgbench import pgbench_tps
from bench.plots import write_plots
from bench.progress import Progress
from bench.read_cost import read_cost
from bench.report import write
from bench.system import System, flush_redis
from bench.workloads import DEPOSIT_PROVIDER, WORKLOADS, Workload, funding_factory, request_factory, wallet_ids
from devtools.databases import fresh_database
from ledger.clients import issue_key
from ledger.db import make_engine, make_session_factory
from ledger.invariants import verify

# How long the workers may take to catch up after a workload's requests are all answered.
MIN_DRAIN_TIMEOUT = 120.0
# The deposit provider's float in the baseline, as in the ledger (migration 0002).
PROVIDER_FLOAT = 999_999_999_999
# Transactions and wallets the reads workload picks its GETs from.
READ_SAMPLE = 2000
# Turns each read path takes in the reads workload (bench._reads).
READ_ROUNDS = 3
# How long the pollers wait for the writer's first accepted transaction.
FIRST_ACCEPT_TIMEOUT = 10.0
# The client the bench acts as, and its key's limit: one no run reaches.
BENCH_CLIENT = "bench"
UNLIMITED = "999999999/second"
# The limit of the key bench/auth_cost.py measures with: a busy client's, not one no run reaches, so
# its blocks (api/extensions/rate_limits/reservations.py) are 100 requests and the cost of asking
# Redis once per block is in the figure.
BUSY_CLIENT_LIMIT = "10000/second"


class Bench:
    """The state one run shares between its steps: configuration, database, system, display."""

    def __init__(self, config: BenchConfig, engine: Engine, progress: Progress) -> None:
        self.config = config
        self.engine = engine
        self.progress = progress
        self.users = wallet_ids(config.wallets)
        # The bench's API keys, made by create_wallets: every request to the API carries the first.
        self.api_key = ""
        self.auth_cost_key = ""
        self.system: System | None = None
        self.memory: PeakMemory | None = None
        self.roles: Roles | None = None
        self.results: dict[str, dict] = {}

    @property
    def drain_timeout(self) -> float:
        return max(MIN_DRAIN_TIMEOUT, 10 * self.config.seconds)

    @property
    def use_wrk(self) -> bool:
        return self.config.use_wrk and self.config.transactions is None and wrk.available()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def create_wallets(self) -> None:
        """Two keys for client ``bench`` (a limit no run reaches; a busy client's, for auth_cost), then
        its user wallets in one statement: a new wallet is one row, with no history to fake.

        The baseline gets the same wallets with the balance the funding deposits will give them.
        """
        with make_session_factory(self.engine)() as session:
            self.api_key = issue_key(session, BENCH_CLIENT, rate_limit=UNLIMITED).key
            self.auth_cost_key = issue_key(session, BENCH_CLIENT, rate_limit=BUSY_CLIENT_LIMIT).key
            session.commit()
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO wallets (client_id, user_id, acnt_type)"
                    " SELECT :client, unnest(CAST(:users AS text[])), 'user'"
                    " ON CONFLICT (client_id, user_id) DO NOTHING"
                ),
                {"client": BENCH_CLIENT, "users": self.users},
            )
        create_baseline(self.engine, self.users, self.config.opening_deposit, DEPOSIT_PROVIDER, PROVIDER_FLOAT)

    def fund_wallets(self) -> None:
        """Every wallet gets its opening deposit through the API, in batches the workers apply."""
        config = self.config
        low = last_seq(self.engine)
        load = asyncio.run(
            offer_closed(
                self.system.api_url,
                funding_factory(self.users, config.opening_deposit),
                batch_items=config.batch_items,
                concurrency=config.batch_concurrency,
                seconds=None,
                cap=len(self.users),
                on_tick=lambda r: self.progress.update("funding", r.allotted / len(self.users), _sent(r)),
                headers=self.headers,
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
        self.system.check_running()
        if workload.kind == "reads":
            document = self._reads()
        elif workload.kind == "poll":
            document = self._poll(workload)
        else:
            document = self._money(workload, pgbench)
        self.system.check_running()
        self.results[workload.name] = document
        return document

    def _money(self, workload: Workload, pgbench: float) -> dict:
        baseline = self._baseline(workload) if workload.kind == "single" else None
        document = self._measured(workload, lambda: self._offer(workload))
        document["pgbench_ratio"] = round(document["applied_per_s"] / pgbench, 3) if pgbench else None
        if baseline is not None:
            document["baseline"] = baseline
            document["baseline_ratio"] = round(document["applied_per_s"] / baseline["per_s"], 3)
        self.progress.done(
            workload.name,
            f"{document['applied']:,} applied, {document['applied_per_s']:,.0f}/s, p99 {document['p99_ms']} ms"
            + (f", {document['baseline_ratio']:.2f}x baseline" if baseline else "")
            + (f", {document['retried_requests']:,} requests told to retry" if document["retried_requests"] else ""),
        )
        return document

    def _measured(self, workload: Workload, send: Callable[[], LoadResult | wrk.WrkResult]) -> dict:
        """Run ``send``, wait until every transaction it caused is decided, and read what happened."""
        config = self.config
        low = last_seq(self.engine)
        before = counters.read(config.redis_url)
        self.memory.reset()
        cpu_before = self.roles.sample()
        wall = time.monotonic()
        load = send()
        high = last_seq(self.engine)
        self._wait_until_decided(workload.name)
        self.memory.sample()
        cpu = self.roles.sample() - cpu_before
        spent = counters.read(config.redis_url) - before
        result = outcome(self.engine, low, high)
        transactions = max(result.transactions, 1)
        document = {
            "load_generator": "wrk" if isinstance(load, wrk.WrkResult) else "asyncio",
            "transactions": result.transactions,
            "applied": result.applied,
            "queued": result.queued,
            # Only the paced workload offers a fixed rate; the others are closed loops. It is asked for
            # one rate and, if the system answers too slowly for its requests in flight, offers less.
            "asked_per_s": round(self._paced_rate(), 1) if workload.kind == "paced" else None,
            "offered_per_s": round(load.allotted / max(load.sent_until - load.started, 1e-9), 1)
            if workload.kind == "paced"
            else None,
            "accepted_per_s": round(_accepted(load) / _seconds(load, wall), 1),
            "applied_per_s": round(result.applied_per_s, 1),
            "p50_ms": result.p50_ms,
            "p95_ms": result.p95_ms,
            "p99_ms": result.p99_ms,
            # None, not 0, when the workers never counted: a missing counter must not look like a win.
            "tasks_per_txn": None if spent.drains is None else round(spent.drains / transactions, 4),
            "wakeups_per_txn": None if spent.wakeups is None else round(spent.wakeups / transactions, 4),
            "rejected": result.rejected,
            "http_errors": _errors(load),
            # Batches told to retry later (503 ledger_behind) and sent again: the client's wait, which
            # the rows' submit-to-applied latency does not hold.
            "retried_requests": load.retried if isinstance(load, LoadResult) else 0,
            "accepted_p99_ms": _p99_ms(load.answered_in) if isinstance(load, LoadResult) else None,
            "rss_mb": self.memory.megabytes(),
            "cpu_ms_per_txn": _per_item(cpu, transactions),
            "applied_per_second": result.applied_per_second,
            "latency_ms_quantiles": result.latency_ms_quantiles,
        }
        return document

    def _offer(self, workload: Workload) -> LoadResult | wrk.WrkResult:
        config = self.config
        api = self.system.api_url
        if workload.kind == "single" and self.use_wrk:
            return self._wrk(api, "money.lua", _money_env(workload, config))
        factory = request_factory(workload, self.users, config.max_amount, seed=zlib.crc32(workload.name.encode()))
        tick = self._ticker(workload.name)
        if workload.kind == "paced":
            return asyncio.run(
                offer_at_rate(
                    api,
                    factory,
                    rate=self._paced_rate(),
                    seconds=config.seconds,
                    cap=config.transactions,
                    in_flight=config.single_in_flight,
                    on_tick=tick,
                    headers=self.headers,
                )
            )
        batched = workload.kind == "batch"
        return asyncio.run(
            offer_closed(
                api,
                factory,
                batch_items=config.batch_items if batched else 1,
                concurrency=config.batch_concurrency if batched else config.wrk_connections,
                seconds=config.seconds,
                cap=config.transactions,
                on_tick=tick,
                headers=self.headers,
            )
        )

    def _poll(self, workload: Workload) -> dict:
        """single_uniform's writers with pollers beside them, then the pollers alone, then the poll's read.

        With the writers: polls/s, and the write path's applied/s against single_uniform's of this
        run (the cost of polling to the ledger). Alone, on the same transactions, all decided by
        then (what a cache could serve): CPU per poll by role. The read (bench.read_cost) says how
        much of that CPU is the PostgreSQL query a cache would skip.
        """
        if not self.use_wrk:
            self.progress.done(workload.name, "skipped: the pollers need wrk and an uncapped run")
            return {"skipped": "needs wrk and no BENCH_TRANSACTIONS cap"}
        config = self.config
        ids = config.log_dir / "poll-ids.txt"
        ids.write_text("")
        polled: list[wrk.WrkResult] = []

        def send() -> wrk.WrkResult:
            with ThreadPoolExecutor(max_workers=1) as pollers:
                started = pollers.submit(self._poll_while_writing, ids)
                written = self._wrk(
                    self.system.api_url, "money.lua", {**_money_env(workload, config), "WRK_IDS": str(ids)}
                )
                polled.append(started.result())
            return written

        document = self._measured(workload, send)
        write_only = self.results.get("single_uniform", {}).get("applied_per_s")
        document.update(
            {
                "poll_per_s": round(_accepted(polled[0]) / polled[0].seconds, 1),
                "poll_p99_ms": polled[0].p99_ms,
                "poll_http_errors": polled[0].errors,
                "polls_per_txn": round(polled[0].requests / max(document["transactions"], 1), 2),
                "write_only_applied_per_s": write_only,
                "write_ratio": round(document["applied_per_s"] / write_only, 3) if write_only else None,
                "poll_only": self._poll_alone(ids),
            }
        )
        document["read"] = self._poll_read_cost(ids, document["poll_only"]["cpu_ms_per_request"])
        self.progress.done(
            workload.name,
            f"{document['poll_per_s']:,.0f} polls/s while {document['applied_per_s']:,.0f} applied/s"
            + (f" ({document['write_ratio']:.2f}x write-only)" if write_only else ""),
        )
        return document

    def _poll_while_writing(self, ids: Path) -> wrk.WrkResult:
        """wrk poll.lua, started once the writer's first transaction is accepted, until the writer stops."""
        deadline = time.monotonic() + FIRST_ACCEPT_TIMEOUT
        while ids.stat().st_size == 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"poll: no transaction accepted after {FIRST_ACCEPT_TIMEOUT:g}s")
            time.sleep(0.05)
        # wrk counts whole seconds: a second less than the writer keeps every poll beside a write.
        return self._wrk(
            self.system.api_url,
            "poll.lua",
            {"WRK_IDS": str(ids)},
            seconds=max(1.0, self.config.seconds - 1),
            connections=self.config.poll_connections,
        )

    def _poll_alone(self, ids: Path) -> dict:
        return self._closed_loop(
            lambda: self._wrk(
                self.system.api_url,
                "poll.lua",
                {"WRK_IDS": str(ids)},
                seconds=self.config.seconds / 2,
                connections=self.config.poll_connections,
            )
        )

    def _poll_read_cost(self, ids: Path, per_poll: dict[str, float]) -> dict:
        """The poll's PostgreSQL read, in CPU, and its share of a whole poll's API and PostgreSQL CPU."""
        config = self.config
        transaction_ids = [uuid.UUID(line.rsplit("/", 1)[1]) for line in ids.read_text().split()[-READ_SAMPLE:]]
        cost = read_cost(config.database_url, config.database_name, BENCH_CLIENT, transaction_ids, config.poll_reads)
        cost["api_share"] = round(cost["api_ms_per_read"] / per_poll["api"], 3) if per_poll.get("api") else None
        cost["postgres_share"] = (
            round(cost["postgres_ms_per_read"] / per_poll["postgres"], 3) if per_poll.get("postgres") else None
        )
        return cost

    def _baseline(self, workload: Workload) -> dict:
        """The same load against the synchronous design: requests answered per second, CPU per request."""
        config = self.config

        def send() -> LoadResult | wrk.WrkResult:
            if self.use_wrk:
                return self._wrk(self.system.baseline_url, "money.lua", _money_env(workload, config))
            factory = request_factory(workload, self.users, config.max_amount, seed=zlib.crc32(b"baseline"))
            return asyncio.run(
                offer_closed(
                    self.system.baseline_url,
                    factory,
                    batch_items=1,
                    concurrency=config.wrk_connections,
                    seconds=config.seconds,
                    cap=config.transactions,
                    on_tick=self._ticker(f"{workload.name} baseline"),
                )
            )

        document = self._closed_loop(send, cpu_key="cpu_ms_per_txn")
        self.progress.done(f"{workload.name} baseline", f"{document['per_s']:,.0f} requests/s")
        return document

    def _closed_loop(self, send: Callable[[], LoadResult | wrk.WrkResult], cpu_key: str = "cpu_ms_per_request") -> dict:
        """Run ``send``, a closed loop of requests: answered per second, p99, errors and CPU per request by role."""
        cpu_before = self.roles.sample()
        wall = time.monotonic()
        load = send()
        cpu = self.roles.sample() - cpu_before
        answered = _accepted(load)
        return {
            "per_s": round(answered / _seconds(load, wall), 1),
            "p99_ms": getattr(load, "p99_ms", None),
            "http_errors": _errors(load),
            cpu_key: _per_item(cpu, max(answered, 1)),
        }

    def _reads(self) -> dict:
        """GET /health, a transaction, a wallet, and the baseline's wallet: requests/s and ratios to /health.

        The paths take turns, ``READ_ROUNDS`` short runs each, so a slow spell of the shared machine
        (another tenant, autovacuum after the writes) falls on every path alike instead of on one of
        them, which would flatter or sink its ratio.
        """
        paths = self._read_paths()
        answered = dict.fromkeys(paths, 0)
        seconds = dict.fromkeys(paths, 0.0)
        p99 = dict.fromkeys(paths, 0.0)
        errors: dict[str, Counter] = {name: Counter() for name in paths}
        cpu: dict[str, Counter] = {name: Counter() for name in paths}
        for _ in range(READ_ROUNDS):
            for name, (url, lines) in paths.items():
                cpu_before = self.roles.sample()
                wall = time.monotonic()
                load = self._get(url, lines, name, self.config.seconds / 2 / READ_ROUNDS)
                cpu[name].update(self.roles.sample() - cpu_before)
                answered[name] += _accepted(load)
                seconds[name] += _seconds(load, wall)
                p99[name] = max(p99[name], getattr(load, "p99_ms", 0.0) or 0.0)
                errors[name].update(_errors(load))
        document = {}
        for name in paths:
            document[name] = {
                "per_s": round(answered[name] / max(seconds[name], 1e-9), 1),
                # The slowest round's: no lower than the p99 of all of them together.
                "p99_ms": p99[name] or None,
                "http_errors": dict(errors[name]),
                "cpu_ms_per_request": _per_item(dict(cpu[name]), max(answered[name], 1)),
            }
            self.progress.done(f"reads {name}", f"{document[name]['per_s']:,.0f} requests/s")
        health = document["health"]["per_s"] or 1.0
        # The same ratio by CPU: /health's CPU per request over the path's, steadier than requests/s
        # when a slow spell of the machine slows one path's turns more than another's.
        health_cpu = document["health"]["cpu_ms_per_request"].get("total")
        for name in document:
            document[name]["health_ratio"] = round(document[name]["per_s"] / health, 3)
            cpu = document[name]["cpu_ms_per_request"].get("total")
            document[name]["health_cpu_ratio"] = round(health_cpu / cpu, 3) if health_cpu and cpu else None
        return document

    def _read_paths(self) -> dict[str, tuple[str, list[str]]]:
        with self.engine.connect() as conn:
            ids = conn.execute(
                # The bench's own: the platform's opening balance is another client's, a 404 to the bench.
                text(
                    "SELECT id::text FROM transactions WHERE status = 'applied' AND client_id = :client"
                    " ORDER BY random() LIMIT :n"
                ),
                {"n": READ_SAMPLE, "client": BENCH_CLIENT},
            ).scalars()
            transactions = [f"/transactions/{i}" for i in ids]
        wallets = [
            f"/wallets/{user}" for user in random.Random(5).sample(self.users, min(READ_SAMPLE, len(self.users)))
        ]
        api, baseline = self.system.api_url, self.system.baseline_url
        return {
            "health": (api, ["/health"]),
            "transaction": (api, transactions),
            "wallet": (api, wallets),
            "baseline_wallet": (baseline, wallets),
        }

    def _get(self, url: str, paths: list[str], name: str, seconds: float) -> LoadResult | wrk.WrkResult:
        config = self.config
        if self.use_wrk:
            listing = config.log_dir / f"paths-{name}.txt"
            listing.write_text("\n".join(paths) + "\n")
            return self._wrk(url, "paths.lua", {"WRK_PATHS": str(listing)}, seconds=seconds)
        rng = random.Random(zlib.crc32(name.encode()))
        return asyncio.run(
            offer_closed(
                url,
                lambda count: (rng.choice(paths), None),
                batch_items=1,
                concurrency=config.wrk_connections,
                seconds=seconds,
                cap=config.transactions,
                on_tick=self._ticker(f"reads {name}"),
                headers=self.headers if url == self.system.api_url else None,
            )
        )

    def _wrk(
        self, url: str, script: str, env: dict, seconds: float | None = None, connections: int | None = None
    ) -> wrk.WrkResult:
        config = self.config
        if url == self.system.api_url:
            env = {**env, "WRK_AUTHORIZATION": self.headers["Authorization"]}
        return wrk.run(
            url,
            script,
            seconds=seconds or config.seconds,
            connections=connections or config.wrk_connections,
            threads=config.wrk_threads,
            env=env,
        )

    def _paced_rate(self) -> float:
        uniform = self.results.get("single_uniform", {}).get("baseline")
        return self.config.paced_fraction * uniform["per_s"] if uniform else self.config.paced_rate

    def _ticker(self, label: str) -> Callable[[LoadResult], None]:
        config = self.config

        def tick(load: LoadResult) -> None:
            self.memory.sample()
            fraction = load.allotted / config.transactions if config.transactions else 0.0
            if load.started:
                fraction = max(fraction, (load.sent_until - load.started) / config.seconds)
            self.progress.update(label, fraction, _sent(load))

        return tick

    def _wait_until_decided(self, label: str) -> None:
        def poll(queued: int) -> None:
            if self.memory is not None:
                self.memory.sample()
            self.progress.update(label, None, f"waiting for the workers: {queued:,} queued")

        wait_until_decided(self.engine, self.drain_timeout, poll)


def run_benchmark(config: BenchConfig, progress: Progress | None = None) -> dict:
    """Run every configured workload against a system of the bench's own; write the results and their plots
    (bench/plots.py) next to ``config.results_path``, and return the results."""
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
        if not bench.use_wrk and config.transactions is None:
            progress.done("wrk", "not installed (apt-get install wrk): the asyncio client takes its place")
        workloads = {}
        with System(config) as system:
            bench.system = system
            processes = _process_counts(system)
            bench.fund_wallets()
            bench.memory = PeakMemory(system.roles())
            bench.roles = Roles(system.roles(), {config.database_name})
            for name in config.workloads:
                workloads[name] = bench.run_workload(WORKLOADS[name], tps)
        progress.update("auth", None, "key check and rate limit, CPU per request")
        auth = auth_cost(
            config.database_url, config.database_name, config.redis_url, bench.auth_cost_key, config.auth_requests
        )
        progress.done("auth", f"{auth['api_ms_per_request']:.3f} ms API CPU per request")
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
                "load_generator": "wrk" if bench.use_wrk else "asyncio",
                "wrk_connections": config.wrk_connections,
                "batch_items": config.batch_items,
            },
            "pgbench_tps": round(tps, 1),
            "verify": checked.ok,
            "verify_problems": checked.problems,
            "verify_summary": checked.summary,
            "workloads": workloads,
            "auth": auth,
        }
    finally:
        engine.dispose()
    write(document, config.results_path)
    write_plots(document, config.results_path.parent)
    return document


def _money_env(workload: Workload, config: BenchConfig) -> dict[str, str]:
    return {"WRK_KIND": workload.type, "WRK_WALLETS": str(config.wallets), "WRK_MAX_AMOUNT": str(config.max_amount)}


def _p99_ms(seconds: list[float]) -> float | None:
    """p99 of ``seconds``, in ms, by the nearest rank; None without any."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    return round(ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)] * 1000, 1)


def _accepted(load: LoadResult | wrk.WrkResult) -> int:
    if isinstance(load, wrk.WrkResult):
        return load.requests - load.errors.get("status", 0)
    return load.accepted


def _seconds(load: LoadResult | wrk.WrkResult, wall: float) -> float:
    if isinstance(load, wrk.WrkResult):
        return load.seconds
    return load.seconds if load.finished else time.monotonic() - wall


def _errors(load: LoadResult | wrk.WrkResult) -> dict[str, int]:
    return dict(load.errors) if isinstance(load, wrk.WrkResult) else dict(load.failures)


def _per_item(cpu: dict[str, float], items: int) -> dict[str, float]:
    """CPU milliseconds per transaction (or request) by role, plus their total."""
    per = {role: round(seconds * 1000 / items, 3) for role, seconds in sorted(cpu.items())}
    per["total"] = round(sum(cpu.values()) * 1000 / items, 3)
    return per


def _process_counts(system: System) -> dict[str, int]:
    members = session_members({pid for pids in system.roles().values() for pid in pids})
    return {role: sum(1 for s in members.values() if s in pids) for role, pids in system.roles().items()}


def _sent(load: LoadResult) -> str:
    failed = sum(load.failures.values())
    return f"sent {load.allotted:,} accepted {load.accepted:,}" + (f" failed {failed:,}" if failed else "")
