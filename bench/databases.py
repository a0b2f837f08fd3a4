"""Throwaway databases for the bench and the tests: dropped, created and migrated by Alembic."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent


def recreate_database(url: str) -> None:
    """Drop (whoever is connected) and create the database named in ``url``."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def fresh_database(url: str) -> None:
    """An empty database of ``url`` built by ``alembic upgrade head``, never ``create_all``."""
    recreate_database(url)
    migrate(url)
