"""``postgresql://`` and ``postgres://`` mean the driver the project ships, for Alembic and the CLI."""

import os
import subprocess
import sys

from sqlalchemy import Engine, make_url, text

from devtools.databases import create_database, drop_database, migrate
from ledger.db import make_engine
from tests.conftest import ROOT


def test_migrations_run_with_a_bare_url(bare_database_url: str) -> None:
    url = make_url(bare_database_url)
    throwaway = url.set(database=f"{url.database}_urls").render_as_string(hide_password=False)
    drop_database(throwaway)
    create_database(throwaway)
    try:
        migrate(throwaway)
        engine = make_engine(throwaway)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM wallets WHERE user_id = 'world'")).scalar_one() == 1
        engine.dispose()
    finally:
        drop_database(throwaway)


def test_verify_runs_with_a_bare_url(clean_db: Engine, bare_database_url: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "ledger", "verify"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": bare_database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith("ledger ok")
