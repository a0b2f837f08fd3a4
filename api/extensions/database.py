"""The app's engine, a per-request ORM session, and a per-request autocommit connection.

The hot routes (accept, poll, read a wallet) make a single call to PostgreSQL, which needs no
transaction of its own: on an autocommit connection it is one round trip, where a session would
add BEGIN and COMMIT (or ROLLBACK). Routes that change several rows use the session and commit it.
Both are closed when the request ends.
"""

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

from ledger.db import make_engine, make_session_factory


class Database:
    """Owned by one app (``app.extensions["database"]``); each request thread gets its own session."""

    def __init__(self, app: Flask) -> None:
        threads = app.config["API_THREADS"]
        # One connection per request thread, and headroom for test clients running in threads.
        # A request that still finds the pool empty after pool_timeout gets a 503, not a hang.
        self.engine: Engine = make_engine(
            app.config["DATABASE_URL"], pool_size=threads, max_overflow=threads + 8, pool_timeout=5
        )
        self.sessions = scoped_session(make_session_factory(self.engine))
        app.extensions["database"] = self
        app.teardown_appcontext(self._close)

    def _close(self, _exc: BaseException | None) -> None:
        self.sessions.remove()
        connection = g.pop("db_connection", None)
        if connection is not None:
            connection.close()


def db_session() -> Session:
    """The current request's session; the request commits it, teardown closes it."""
    return current_app.extensions["database"].sessions()


def db_connection() -> Connection:
    """The current request's autocommit connection: each statement is its own transaction."""
    if "db_connection" not in g:
        engine = current_app.extensions["database"].engine
        g.db_connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    return g.db_connection
