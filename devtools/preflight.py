"""``python -m devtools.preflight``: fail fast, with a plain message, when PostgreSQL or Redis is not there.

Run by ``make dev`` before anything starts, so a missing service is one clear line instead of six
processes crashing in a loop. It also creates the database named in DATABASE_URL if the server
does not have it yet (Alembic can migrate an empty database, not create one).
"""

import sys

import redis
from kombu.utils.url import maybe_sanitize_url
from sqlalchemy.exc import SQLAlchemyError

import settings
from devtools.databases import create_database
from ledger.db import normalize_url

CONNECT_TIMEOUT_SECONDS = 3


def check_redis(url: str) -> None:
    client = redis.Redis.from_url(
        url, socket_timeout=CONNECT_TIMEOUT_SECONDS, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def main() -> int:
    database = normalize_url(settings.DATABASE_URL)
    problems = []
    try:
        if create_database(settings.DATABASE_URL):
            print(f"created database {database.database!r}")
    except SQLAlchemyError as exc:
        problems.append(
            f"PostgreSQL is not reachable at {database.render_as_string(hide_password=True)}: "
            f"{getattr(exc, 'orig', exc)}".strip()
            + "\n  start it (e.g. `pg_ctlcluster 15 main start`) or set DATABASE_URL"
        )
    try:
        check_redis(settings.REDIS_URL)
    except redis.RedisError as exc:
        problems.append(
            f"Redis is not reachable at {maybe_sanitize_url(settings.REDIS_URL)}: {exc}"
            + "\n  start it (e.g. `redis-server --daemonize yes`) or set REDIS_URL"
        )
    for problem in problems:
        print(f"preflight: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
