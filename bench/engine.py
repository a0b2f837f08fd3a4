"""The posting engine alone, from Python, without HTTP or Celery: how fast do batches apply?

    python -m bench.engine [--wallets 10000] [--transfers 20000] [--batch-size 1000]

Builds a throwaway database with Alembic, funds the wallets through the engine itself (deposits
through the one hot provider), queues random transfers in one partition, and times the drains.
"""

import argparse
import random
import time

from sqlalchemy import insert, make_url

import settings
from devtools.databases import fresh_database
from ledger.accept import TransactionRequest, record_transactions
from ledger.db import make_engine, make_session_factory
from ledger.invariants import verify
from ledger.models import Wallet
from ledger.posting import drain_partition

DATABASE = "wallet_bench_engine"
PROVIDER = "deposit-provider-master"


def _fresh_database() -> str:
    url = make_url(settings.DATABASE_URL).set(database=DATABASE).render_as_string(hide_password=False)
    fresh_database(url)
    return url


def _queue(session_factory, requests: list[TransactionRequest], chunk: int = 1000) -> None:
    for start in range(0, len(requests), chunk):
        with session_factory() as session, session.begin():
            record_transactions(session, requests[start : start + chunk], partitions=1)


def _drain(session_factory, batch_size: int) -> tuple[int, float, int]:
    started = time.perf_counter()
    result = drain_partition(session_factory, 0, batch_size=batch_size, max_seconds=3600)
    return len(result.applied), time.perf_counter() - started, result.batches


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine")
    parser.add_argument("--wallets", type=int, default=10_000)
    parser.add_argument("--transfers", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    session_factory = make_session_factory(make_engine(_fresh_database()))
    users = [f"bench-{i:06d}" for i in range(args.wallets)]
    with session_factory() as session, session.begin():
        session.execute(insert(Wallet), [{"user_id": u, "acnt_type": "user"} for u in users])

    _queue(session_factory, [TransactionRequest("deposit", PROVIDER, u, 1_000_000) for u in users])
    applied, seconds, batches = _drain(session_factory, args.batch_size)
    print(f"hot deposits: {applied} applied in {seconds:.2f}s over {batches} batches = {applied / seconds:,.0f}/s")

    rng = random.Random(7)
    transfers = []
    for _ in range(args.transfers):
        payer, payee = rng.sample(users, 2)
        transfers.append(TransactionRequest("transfer", payer, payee, rng.randint(1, 5_000)))
    _queue(session_factory, transfers)
    applied, seconds, batches = _drain(session_factory, args.batch_size)
    print(f"transfers:    {applied} applied in {seconds:.2f}s over {batches} batches = {applied / seconds:,.0f}/s")

    with session_factory() as session:
        report = verify(session)
    print(f"verify: {'ok' if report.ok else report.problems} ({report.summary})")


if __name__ == "__main__":
    main()
