"""Fixtures every test folder shares: a real PostgreSQL database built by Alembic migrations.

The test database is dropped and rebuilt once per run (never ``create_all``), and the tests' own
client and API key are added to it. That state is copied aside (schema ``pristine``); between
tests every table is emptied and refilled from the copy, so each test starts from what a fresh
``alembic upgrade head`` leaves, plus the tests' key.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from devtools.databases import fresh_database
from ledger.clients import issue_key
from ledger.db import make_engine
from tests.fixtures import parallel

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = parallel.database_url(
    os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/wallet_test")
)
TEST_REDIS_URL = parallel.redis_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
# settings.py reads the environment at import: point every part of the system (this process and
# the worker processes it starts) at the test database and broker before anything imports it.
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["REDIS_URL"] = TEST_REDIS_URL
# Batches are never refused for a ledger behind, unless a test says so (tests/api/test_admission.py):
# most tests run no worker, so every row they queue ages, and a slow machine would age it past the
# limit between two of a test's batches.
os.environ["API_BATCH_MAX_QUEUE_AGE_SECONDS"] = "0"
# The client the tests act as, through the API (with ``api_key``) and through the ledger directly.
TEST_CLIENT = "tests"
# Its key's limit: never reached by a test that is not about rate limits.
UNLIMITED = "999999999/second"

pytest_plugins = ["tests.fixtures.services"]


@pytest.fixture(scope="session")
def database_url() -> str:
    fresh_database(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=20, max_overflow=10)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture(scope="session")
def api_key(engine: Engine, session_factory: sessionmaker[Session]) -> str:
    """The key of client ``tests``: every scope, no practical rate limit. Part of the pristine copy."""
    with session_factory() as session:
        issued = issue_key(session, TEST_CLIENT, rate_limit=UNLIMITED)
        session.commit()
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS pristine CASCADE; CREATE SCHEMA pristine"))
        for table in _tables(conn):
            conn.execute(text(f"CREATE TABLE pristine.{table} AS TABLE public.{table}"))
    return issued.key


@pytest.fixture
def clean_db(engine: Engine, api_key: str) -> Engine:
    """Every table as the pristine copy has it: the migrations' rows and the tests' key, no more.

    The ledger's rules refuse to truncate its record (entries, transactions, wallets): the refill
    runs as a replication session, which fires no ordinary triggers. Nothing but this fixture does so.
    """
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        tables = _tables(conn)
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        # Tables a test made (the bench's baseline) are emptied, not refilled: the copy has none of them.
        for table in set(tables) & set(_tables(conn, "pristine")):
            conn.execute(text(f"INSERT INTO public.{table} OVERRIDING SYSTEM VALUE SELECT * FROM pristine.{table}"))
        # Identities continue from the copy's highest value, as they would after the migrations.
        for sequence, table, column in conn.execute(text(SEQUENCES)):
            conn.execute(
                text(f"SELECT setval(:sequence, max({column}), true) FROM public.{table} HAVING count(*) > 0"),
                {"sequence": sequence},
            )
        conn.execute(text("SET LOCAL session_replication_role = origin"))
    return engine


# Each identity or serial column of a public table, with its sequence.
SEQUENCES = """
SELECT sequence.oid::regclass::text, quote_ident(owner.relname), quote_ident(a.attname)
FROM pg_depend d
JOIN pg_class sequence ON sequence.oid = d.objid AND sequence.relkind = 'S'
JOIN pg_class owner ON owner.oid = d.refobjid
JOIN pg_namespace n ON n.oid = owner.relnamespace AND n.nspname = 'public'
JOIN pg_attribute a ON a.attrelid = owner.oid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
"""


def _tables(conn: Connection, schema: str = "public") -> list[str]:
    query = "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = :schema AND tablename <> 'alembic_version'"
    return list(conn.execute(text(query + " ORDER BY tablename"), {"schema": schema}).scalars())


def with_key(client: FlaskClient, key: str) -> FlaskClient:
    """``client``, sending ``key`` with every request."""
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def session(clean_db: Engine, session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture(params=["postgresql", "postgres"])
def bare_database_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """The test database under a scheme that names no driver, as hosting services and compose files write it."""
    return make_url(database_url).set(drivername=request.param).render_as_string(hide_password=False)
