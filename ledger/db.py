"""Engine and session factory. Callers own transactions: nothing in ``ledger`` commits for them."""

from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

# The driver this project ships (requirements.txt). SQLAlchemy 2.1 reads a bare ``postgresql://``
# as psycopg 3, and ``postgres://`` (Heroku, many hosting services) as no dialect at all.
DRIVER = "postgresql+psycopg2"
BARE_SCHEMES = ("postgresql", "postgres")


def normalize_url(url: str | URL) -> URL:
    """``postgresql://``, ``postgres://`` and ``postgresql+psycopg2://`` all mean the shipped driver."""
    parsed = make_url(url)
    if parsed.drivername in BARE_SCHEMES:
        parsed = parsed.set(drivername=DRIVER)
    return parsed


def make_engine(url: str | URL, **options) -> Engine:
    # A short connect timeout turns "PostgreSQL is down" into a quick error the API maps to 503.
    options.setdefault("connect_args", {"connect_timeout": 3})
    # No pre-ping: it costs a round trip before every request (a fifth of the accept path). A
    # connection that died with a server restart fails once, is discarded with the whole pool,
    # and the API answers that one request 503 with Retry-After.
    return create_engine(normalize_url(url), **options)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
