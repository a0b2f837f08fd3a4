"""What the PostgreSQL read inside a poll costs, in CPU: what a cache of decided transactions would save.

``GET /transactions/{id}`` makes one statement (``ledger.queries.transaction_json``, prepared once
per connection) on an autocommit connection checked out of the pool for the request. The same
calls are made here, in a loop, on an engine built as the API builds its own: this process's CPU
(role ``loadgen``) is the API's side of the read (pool checkout, SQLAlchemy, psycopg2, the round
trip), and PostgreSQL's is its backend's. pg_stat_statements would give only PostgreSQL's time,
and is not loaded on a default server.
"""

import uuid
from collections.abc import Sequence
from itertools import cycle, islice

from sqlalchemy import Engine

from bench.cpu import Roles
from ledger.db import make_engine
from ledger.queries import transaction_json

# Reads before measuring: the connection is opened and the statement prepared.
WARMUP = 50


def read_cost(database_url: str, database_name: str, client: str, ids: Sequence[uuid.UUID], reads: int) -> dict:
    """CPU ms per read of a transaction, on the API's side and PostgreSQL's, over ``reads`` reads of ``ids``."""
    engine = make_engine(database_url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        roles = Roles({}, {database_name})
        _read(engine, client, ids, WARMUP)
        before = roles.sample()
        _read(engine, client, ids, reads)
        spent = roles.sample() - before
    finally:
        engine.dispose()
    return {
        "reads": reads,
        "api_ms_per_read": round(spent.get("loadgen", 0.0) * 1000 / reads, 4),
        "postgres_ms_per_read": round(spent.get("postgres", 0.0) * 1000 / reads, 4),
    }


def _read(engine: Engine, client: str, ids: Sequence[uuid.UUID], reads: int) -> None:
    for transaction_id in islice(cycle(ids), reads):
        # A connection per read, as each request checks one out of the pool and returns it.
        with engine.connect() as conn:
            transaction_json(conn, client, transaction_id)
