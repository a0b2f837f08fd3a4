"""Creating, dropping and migrating databases: for ``make dev`` (create if missing), the bench and
the tests (throwaway databases, built by ``alembic upgrade head``, never ``create_all``); and the
URLs that name another database, or another Redis db, on the same server.
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from ledger.db import make_engine, normalize_url

ROOT = Path(__file__).resolve().parent.parent


def create_database(url: str) -> bool:
    """Create the database named in ``url`` if the server lacks it; True if it was created."""
    name = _name(url)
    with _server(url) as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar():
            return False
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        return True


def drop_database(url: str) -> None:
    """Drop the database named in ``url``, disconnecting whoever is connected."""
    with _server(url) as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_name(url)}" WITH (FORCE)'))


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def with_database(url: str, database: str) -> str:
    """``url`` naming ``database`` on the same server, password kept: a URL to hand on."""
    return normalize_url(url).set(database=database).render_as_string(hide_password=False)


def redis_db(url: str) -> int:
    """The Redis db a Redis URL names: 0 when its path names none."""
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


def with_redis_db(url: str, db: int) -> str:
    """Redis ``url`` naming db ``db`` instead, credentials and options kept."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def fresh_database(url: str) -> None:
    """An empty database of ``url`` built by ``alembic upgrade head``."""
    drop_database(url)
    create_database(url)
    migrate(url)


@contextlib.contextmanager
def _server(url: str) -> Iterator[Connection]:
    """An autocommit connection to the server's ``postgres`` database (CREATE/DROP DATABASE need one)."""
    engine = make_engine(with_database(url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _name(url: str) -> str:
    return normalize_url(url).database
