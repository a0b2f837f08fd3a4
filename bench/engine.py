"""The posting engine alone, from Python, without HTTP or Celery, against PostgreSQL's set-based limit.

    python -m bench.engine [--wallets 10000] [--transfers 20000] [--batch-size 1000]

Builds a throwaway database with Alembic, funds the wallets through the engine itself (deposits
through the one hot provider), queues random transfers in one partition and times the drains,
statement by statement; the timed drain runs with the process's objects frozen out of garbage
collection (``gc.freeze``), as in a ledger worker. Then the ceiling, in the same run and the same
database: the same transfers, 1,000 at a time, applied as one aggregated balance UPDATE plus one
entries INSERT and a commit, on copies of the wallets and entries tables with the same columns,
indexes and storage settings but none of the rules (no checks, triggers or existence checks). Its
last line reads ``engine: N transfers/s, ceiling: M transfers/s, ratio: R``.
"""

import argparse
import gc
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import psycopg2.extensions
from sqlalchemy import Engine, event, insert, text
from sqlalchemy.orm import sessionmaker

import settings
from devtools.databases import fresh_database, with_database
from ledger.accept import TransactionRequest, record_transactions
from ledger.db import make_engine, make_session_factory
from ledger.enums import DEFAULT_CLIENT
from ledger.invariants import verify
from ledger.models import Wallet
from ledger.posting import drain_partitions

DATABASE = "wallet_bench_engine"
PROVIDER = "deposit-provider-master"
CEILING_TABLES = """
DROP TABLE IF EXISTS ceiling_entries, ceiling_wallets;
CREATE TABLE ceiling_wallets (LIKE wallets INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)
    WITH (fillfactor = 50);
INSERT INTO ceiling_wallets OVERRIDING SYSTEM VALUE SELECT * FROM wallets;
CREATE TABLE ceiling_entries (LIKE entries INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);
"""
CEILING_UPDATE = text(
    "UPDATE ceiling_wallets AS w SET balance = w.balance + d.delta, updated_at = now()"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:deltas AS bigint[])) AS d(id, delta) WHERE w.id = d.id"
)
CEILING_INSERT = text(
    "INSERT INTO ceiling_entries (transaction_id, wallet_id, amount, balance_after)"
    " SELECT t, w, a, 0 FROM unnest(CAST(:transactions AS uuid[]), CAST(:wallets AS bigint[]),"
    " CAST(:amounts AS bigint[])) AS x(t, w, a)"
)


class TimedCursor(psycopg2.extensions.cursor):
    """A driver cursor adding the time of each statement (by its first words) to ``spent``."""

    spent: ClassVar[dict[str, float]] = defaultdict(float)

    def execute(self, query, vars=None):
        started = time.perf_counter()
        try:
            return super().execute(query, vars)
        finally:
            label = " ".join(str(query).split()[:4])[:48]
            TimedCursor.spent[label] += time.perf_counter() - started


@contextmanager
def timing_statements(sessions: sessionmaker) -> Iterator[dict[str, float]]:
    """Seconds spent per statement and in COMMIT while the block runs, on connections opened by
    an engine built with ``cursor_factory=TimedCursor``."""
    started: dict[object, float] = {}

    def before_commit(session) -> None:
        started[session] = time.perf_counter()

    def after_commit(session) -> None:
        TimedCursor.spent["COMMIT"] += time.perf_counter() - started.pop(session)

    TimedCursor.spent.clear()
    event.listen(sessions, "before_commit", before_commit)
    event.listen(sessions, "after_commit", after_commit)
    try:
        yield TimedCursor.spent
    finally:
        event.remove(sessions, "before_commit", before_commit)
        event.remove(sessions, "after_commit", after_commit)


def _fresh_database() -> str:
    url = with_database(settings.DATABASE_URL, DATABASE)
    fresh_database(url)
    return url


def _queue(session_factory, requests: list[TransactionRequest], chunk: int = 1000) -> None:
    for start in range(0, len(requests), chunk):
        with session_factory() as session, session.begin():
            record_transactions(session, DEFAULT_CLIENT, requests[start : start + chunk], partitions=1)


def _drain(session_factory, batch_size: int) -> tuple[int, float, int]:
    started = time.perf_counter()
    result = drain_partitions(session_factory, [0], batch_size=batch_size, max_seconds=3600)
    return len(result.applied), time.perf_counter() - started, result.batches


def _copy_without_rules(engine: Engine) -> None:
    """The ceiling's tables: wallets and entries as they are now, with their indexes and storage, no rules."""
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(CEILING_TABLES)
        raw.commit()
        raw.driver_connection.autocommit = True
        raw.cursor().execute("VACUUM ANALYZE ceiling_wallets")
    finally:
        raw.close()


def _checkpoint(engine: Engine) -> None:
    """Both timed runs start right after a checkpoint, so each pays for the first write of its pages,
    and with fresh statistics, as autovacuum would keep them on a running system."""
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True
        raw.cursor().execute("ANALYZE")
        raw.cursor().execute("CHECKPOINT")
    finally:
        raw.close()


def _ceiling(engine: Engine, transfers: list[tuple[int, int, int]], batch_size: int) -> float:
    """Transfers per second of the set-based ceiling, for the same (payer, payee, amount) transfers."""
    rng = random.Random(11)
    batches = []
    for start in range(0, len(transfers), batch_size):
        chunk = transfers[start : start + batch_size]
        deltas: dict[int, int] = defaultdict(int)
        for payer, payee, amount in chunk:
            deltas[payer] -= amount
            deltas[payee] += amount
        ids = [f"{rng.getrandbits(128):032x}" for _ in chunk]
        batches.append(
            {
                "ids": _array(deltas),
                "deltas": _array(deltas.values()),
                "transactions": _array(i for i in ids for _ in (0, 1)),
                "wallets": _array(w for payer, payee, _ in chunk for w in (payer, payee)),
                "amounts": _array(a for _, _, amount in chunk for a in (-amount, amount)),
            }
        )
    _checkpoint(engine)
    with engine.connect() as conn:
        started = time.perf_counter()
        for batch in batches:
            conn.execute(CEILING_UPDATE, batch)
            conn.execute(CEILING_INSERT, batch)
            conn.commit()
        return len(transfers) / (time.perf_counter() - started)


def _array(values) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine")
    parser.add_argument("--wallets", type=int, default=10_000)
    parser.add_argument("--transfers", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    engine = make_engine(_fresh_database(), connect_args={"connect_timeout": 3, "cursor_factory": TimedCursor})
    session_factory = make_session_factory(engine)
    users = [f"bench-{i:06d}" for i in range(args.wallets)]
    with session_factory() as session, session.begin():
        rows = [{"client_id": DEFAULT_CLIENT, "user_id": u, "acnt_type": "user"} for u in users]
        session.execute(insert(Wallet), rows)

    _queue(session_factory, [TransactionRequest("deposit", PROVIDER, u, 1_000_000) for u in users])
    applied, seconds, batches = _drain(session_factory, args.batch_size)
    print(f"hot deposits: {applied} applied in {seconds:.2f}s over {batches} batches = {applied / seconds:,.0f}/s")

    rng = random.Random(7)
    requests = []
    for _ in range(args.transfers):
        payer, payee = rng.sample(users, 2)
        requests.append(TransactionRequest("transfer", payer, payee, rng.randint(1, 5_000)))
    _queue(session_factory, requests)
    _copy_without_rules(engine)
    _checkpoint(engine)
    # As a ledger worker does when it starts (workers/app.py): what the process holds by now, the
    # 20,000 requests above included, is left out of the garbage collections the drain brings.
    gc.freeze()
    with timing_statements(session_factory) as spent:
        applied, seconds, batches = _drain(session_factory, args.batch_size)
    engine_rate = applied / seconds
    print(f"transfers:    {applied} applied in {seconds:.2f}s over {batches} batches = {engine_rate:,.0f}/s")
    print(f"per batch of {args.batch_size} ({seconds / batches * 1000:.1f} ms):")
    for label, seconds_in in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {seconds_in / batches * 1000:7.2f} ms  {label}")
    print(f"  {(seconds - sum(spent.values())) / batches * 1000:7.2f} ms  the rest: Python, BEGIN, the driver")

    with session_factory() as session:
        report = verify(session)
    print(f"verify: {'ok' if report.ok else report.problems} ({report.summary})")

    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT user_id, id FROM wallets")).all())
    transfers = [(ids[r.debit_user_id], ids[r.credit_user_id], r.amount) for r in requests]
    ceiling_rate = _ceiling(engine, transfers, args.batch_size)
    print(
        f"engine: {engine_rate:,.0f} transfers/s, ceiling: {ceiling_rate:,.0f} transfers/s,"
        f" ratio: {engine_rate / ceiling_rate:.2f}"
    )


if __name__ == "__main__":
    main()
