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
        pool = {"pool_size": threads, "max_overflow": threads + 8, "pool_timeout": 5}
        self.engine: Engine = make_engine(app.config["DATABASE_URL"], **pool)
        # Autocommit set once per connection, when it is opened: switching a pooled connection to
        # it and back costs a round trip each way, twice the price of the call it would serve.
        self.autocommit: Engine = make_engine(app.config["DATABASE_URL"], isolation_level="AUTOCOMMIT", **pool)
        self.sessions = scoped_session(make_session_factory(self.engine))
        app.extensions["database"] = self
        app.teardown_appcontext(self._close)

    def dispose(self) -> None:
        """Close every pooled connection (an app that is done, in tests)."""
        self.engine.dispose()
        self.autocommit.dispose()

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
        g.db_connection = current_app.extensions["database"].autocommit.connect()
    return g.db_connection
