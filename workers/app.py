"""The Celery application, and the database handle of a worker process.

The engine is created after the fork, in ``worker_process_init``: a connection pool inherited
from a parent process would share sockets between processes. Pools that do not fork (the
webhooks worker's threads) open it on first use instead.

Logging is ours, not Celery's (``setup_logging``): workers and beat write the API's lines
(observability.logs), and Celery leaves the root logger alone.
"""

import gc
import re
import threading

from celery import Celery
from celery.signals import celeryd_init, setup_logging, worker_process_init, worker_process_shutdown, worker_shutdown
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import settings
from celeryconfig import CELERY_CONFIG
from ledger.db import make_engine, make_session_factory
from observability.logs import configure

celery_app = Celery("wallet")
celery_app.conf.update(CELERY_CONFIG)

_lock = threading.Lock()
_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None
# The partitions whose queues this worker consumes (its -Q), learnt before the pool forks.
_owned: tuple[int, ...] = ()
LEDGER_QUEUE = re.compile(r"ledger\.p(\d+)")


def owned_partitions() -> tuple[int, ...]:
    """The partitions of the ``ledger.pNN`` queues this worker process consumes; empty elsewhere."""
    return _owned


# celeryd_init too: a worker warns (running as root, ...) before Celery sets up logging, and those
# warnings must be lines like the others.
@celeryd_init.connect
@setup_logging.connect
def configure_logging(**_) -> None:
    """LOG_FORMAT and LOG_LEVEL from settings; Celery's ``--loglevel`` and its formats are not used."""
    configure(settings.LOG_FORMAT, settings.LOG_LEVEL)


@celeryd_init.connect
def remember_partitions(options: dict, **_) -> None:
    global _owned
    queues = options.get("queues") or []
    names = queues.split(",") if isinstance(queues, str) else queues
    _owned = tuple(sorted(int(m.group(1)) for name in names if (m := LEDGER_QUEUE.fullmatch(name.strip()))))


def session_factory() -> sessionmaker[Session]:
    """This process's session factory, opening the engine if this process has none yet."""
    with _lock:
        if _session_factory is None:
            _open_database()
        return _session_factory


def _open_database() -> None:
    global _engine, _session_factory
    _engine = make_engine(settings.DATABASE_URL, pool_size=5, max_overflow=5)
    _session_factory = make_session_factory(_engine)


def _close_database() -> None:
    global _engine, _session_factory
    if _engine is not None:
        _engine.dispose()
    _engine = _session_factory = None


@worker_process_init.connect
def open_database_after_fork(**_) -> None:
    global _engine
    with _lock:
        if _engine is not None:
            # Inherited from the parent: forget its connections without closing the parent's sockets.
            _engine.dispose(close=False)
            _engine = None
        _open_database()


@worker_process_init.connect
def freeze_startup_objects(**_) -> None:
    """Leave what the process holds when it starts (Celery, kombu, SQLAlchemy, our modules: some
    130,000 objects) out of every garbage collection from now on.

    A batch keeps its thousands of rows alive until it commits, so they outlive the young
    generations and bring a full collection every batch or two, each walking that whole heap: a
    third of the engine's Python time per transaction (docs/performance.md).
    """
    gc.freeze()


@worker_process_shutdown.connect
@worker_shutdown.connect
def close_database(**_) -> None:
    with _lock:
        _close_database()
