"""What a Prometheus scrape of ``GET /metrics`` costs with a large ledger behind it.

    python -m bench.scrape [--rows 1000000] [--queued 10000] [--deliveries 200000] [--scrapes 100]

Builds a throwaway database with Alembic and fills it as a long-lived ledger would look to the
scrape: ``--rows`` transactions (all but ``--queued`` of them decided, 5 % rejected), the queued
ones in the queue, and ``--deliveries`` webhook deliveries (mostly delivered, some pending, a few
given up). The rows are written in bulk as a replication session, which fires no ordinary
trigger: the scrape reads rows, it does not care how they were written, and a million accepts
through the rules would take longer than the measurement. Then it answers ``--scrapes`` scrapes
through the app (Flask's test client, a key with ``metrics:read``) and prints the median, p95
and worst time of a whole scrape: the queries, the API's metrics and the text. The issue's bound
is 50 ms with a million rows in ``transactions``.
"""

import argparse
import statistics
import time

from sqlalchemy import text

import settings
from api import close_app, create_app
from devtools.databases import drop_database, fresh_database, with_database
from ledger.clients import issue_key
from ledger.db import make_engine, make_session_factory
from ledger.enums import DEFAULT_CLIENT, Scope

DATABASE = "wallet_bench_scrape"
# One partition in 16 gets no queued row, so the scrape also reports partitions at 0.
FILL = """
SET LOCAL session_replication_role = replica;
INSERT INTO transactions (type, status, amount, currency, debit_wallet_id, credit_wallet_id, partition,
                          client_id, failure_code, failure_message, created_at, decided_at)
SELECT 'deposit',
       CASE WHEN n <= :queued THEN 'queued' WHEN n % 20 = 0 THEN 'rejected' ELSE 'applied' END,
       1 + n % 1000, 'USD', provider.id, sink.id, (n % 15)::smallint, :client,
       CASE WHEN n > :queued AND n % 20 = 0 THEN 'insufficient_funds' END,
       CASE WHEN n > :queued AND n % 20 = 0 THEN 'the payer cannot afford it' END,
       now() - make_interval(secs => n), CASE WHEN n > :queued THEN now() - make_interval(secs => n) END
FROM generate_series(1, :rows) AS n,
     (SELECT id FROM wallets WHERE user_id = 'deposit-provider-master') AS provider,
     (SELECT id FROM wallets WHERE user_id = 'withdraw-provider-master') AS sink;
INSERT INTO transaction_queue (partition, seq, transaction_id, type, amount, currency, debit_wallet_id,
                               credit_wallet_id, created_at)
SELECT partition, seq, id, type, amount, currency, debit_wallet_id, credit_wallet_id, created_at
FROM transactions WHERE status = 'queued';
INSERT INTO webhook_messages (transaction_id, event_type, url, status, attempts, next_attempt_at)
SELECT id, 'transaction.applied', 'https://example.com/hooks',
       CASE WHEN seq % 400 = 0 THEN 'failed' WHEN seq % 40 = 0 THEN 'pending' ELSE 'delivered' END,
       1, CASE WHEN seq % 400 <> 0 AND seq % 40 = 0 THEN now() END
FROM transactions WHERE status = 'applied' ORDER BY seq LIMIT :deliveries;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--deliveries", type=int, default=200_000)
    parser.add_argument("--scrapes", type=int, default=100)
    args = parser.parse_args()

    url = with_database(settings.DATABASE_URL, DATABASE)
    fresh_database(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        parameters = {"rows": args.rows, "queued": args.queued, "deliveries": args.deliveries}
        conn.execute(text(FILL), {**parameters, "client": DEFAULT_CLIENT})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM transactions), (SELECT count(*) FROM transaction_queue),"
                " (SELECT count(*) FROM webhook_messages)"
            )
        ).one()
    print(
        f"filled in {time.perf_counter() - started:.0f}s: {counts[0]:,} transactions, {counts[1]:,} queued,"
        f" {counts[2]:,} webhook deliveries"
    )
    with make_session_factory(engine)() as session:
        key = issue_key(session, DEFAULT_CLIENT, scopes=[Scope.METRICS_READ]).key
        session.commit()
    engine.dispose()

    app = create_app({"DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL, "API_RATE_LIMIT": "1000000/second"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    try:
        client.get("/metrics", headers=headers)
        times = []
        for _ in range(args.scrapes):
            began = time.perf_counter()
            answer = client.get("/metrics", headers=headers)
            times.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"GET /metrics answered {answer.status_code}: {answer.get_data(as_text=True)}")
    finally:
        close_app(app)
        drop_database(url)
    times.sort()
    print(
        f"scrape: median {statistics.median(times):.1f} ms, p95 {times[int(len(times) * 0.95) - 1]:.1f} ms,"
        f" max {times[-1]:.1f} ms over {len(times)} scrapes (in-process, no HTTP)"
    )


if __name__ == "__main__":
    main()
