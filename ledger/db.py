"""Engine and session factory. Callers own transactions: nothing in ``ledger`` commits for them."""

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **options) -> Engine:
    # A short connect timeout turns "PostgreSQL is down" into a quick error the API maps to 503.
    options.setdefault("connect_args", {"connect_timeout": 3})
    # No pre-ping: it costs a round trip before every request (a fifth of the accept path). A
    # connection that died with a server restart fails once, is discarded with the whole pool,
    # and the API answers that one request 503 with Retry-After.
    return create_engine(url, **options)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
