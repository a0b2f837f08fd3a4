"""Fixtures every test folder shares: a real PostgreSQL database built by Alembic migrations.

The test database is dropped and rebuilt once per run (never ``create_all``); between tests the
tables are truncated and the opening-balance migration's SQL is replayed, so each test starts
from the state a fresh ``alembic upgrade head`` leaves.
"""

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from devtools.databases import fresh_database
from ledger.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/wallet_test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# settings.py reads the environment at import: point every part of the system (this process and
# the worker processes it starts) at the test database and broker before anything imports it.
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["REDIS_URL"] = TEST_REDIS_URL

pytest_plugins = ["tests.fixtures.services"]


def _opening_sql() -> str:
    path = ROOT / "migrations" / "versions" / "0002_opening_balances.py"
    spec = importlib.util.spec_from_file_location("opening_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.OPENING


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


@pytest.fixture
def clean_db(engine: Engine) -> Engine:
    """Empty every table, then replay the opening balances, as a fresh migration leaves them.

    The ledger's rules refuse to truncate its record (entries, transactions, wallets): the wipe runs
    as a replication session, which fires no ordinary triggers. Nothing but this fixture does so.
    """
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        tables = conn.execute(
            text(
                "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
                " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).scalar_one()
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("SET LOCAL session_replication_role = origin"))
        conn.exec_driver_sql(_opening_sql())
    return engine


@pytest.fixture
def session(clean_db: Engine, session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture(params=["postgresql", "postgres"])
def bare_database_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """The test database under a scheme that names no driver, as hosting services and compose files write it."""
    return make_url(database_url).set(drivername=request.param).render_as_string(hide_password=False)
