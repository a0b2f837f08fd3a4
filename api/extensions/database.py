"""The app's engine and its per-request session, closed when the request ends."""

from flask import Flask, current_app
from sqlalchemy import Engine
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
        app.teardown_appcontext(self._close_session)

    def _close_session(self, _exc: BaseException | None) -> None:
        self.sessions.remove()


def db_session() -> Session:
    """The current request's session; the request commits it, teardown closes it."""
    return current_app.extensions["database"].sessions()
