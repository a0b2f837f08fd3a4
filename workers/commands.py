"""The command line of each process the workers package runs, written once.

The Procfile, docker-compose, the Kubernetes manifests (through ``python -m workers``), the bench
and the tests all start ledger workers, the webhooks worker, beat and Flower from these argv lists.
"""

import sys

import settings
from celeryconfig import QueueName
from workers.routing import worker_queues

# Mingle and gossip synchronise workers at start-up and chat between them afterwards; nothing here
# needs either (each queue has one consumer), and both cost start-up time and broker traffic.
QUIET = ["--without-mingle", "--without-gossip"]


class MissingCredentials(RuntimeError):
    pass


def _celery(log_format: str) -> list[str]:
    """Celery prints its start-up banner rather than logging it: in JSON it would be the one line of
    a process's output that a log pipeline cannot parse. --quiet drops it; the text format keeps it.
    ``log_format`` is the started process's, which its starter may set apart from its own."""
    return [sys.executable, "-m", "celery", "-A", "workers.app", *(["--quiet"] if log_format == "json" else [])]


def ledger_worker(index: int, count: int, partitions: int, *, log_format: str = settings.LOG_FORMAT) -> list[str]:
    """Ledger worker ``index`` of ``count``: one process (concurrency 1), so its partitions apply in order."""
    queues = ",".join(worker_queues(index, count, partitions))
    return [
        *_celery(log_format),
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        "1",
        "-Q",
        queues,
        "-n",
        f"ledger{index}@%h",
        *QUIET,
    ]


def webhooks_worker(*, log_format: str = settings.LOG_FORMAT) -> list[str]:
    """Threads: a delivery waits on a receiver's network, not on the CPU."""
    queue = QueueName.WEBHOOKS
    return [
        *_celery(log_format),
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        "8",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        *QUIET,
    ]


def beat(schedule: str, *, log_format: str = settings.LOG_FORMAT) -> list[str]:
    """Exactly one per deployment: two would send every sweep twice (harmless, but wasted)."""
    return [*_celery(log_format), "beat", "--schedule", schedule]


def flower(port: int, address: str, basic_auth: str, *, log_format: str = settings.LOG_FORMAT) -> list[str]:
    """Flower's API can shut workers down: it never runs without credentials."""
    user, colon, password = basic_auth.partition(":")
    if not (user and colon and password):
        raise MissingCredentials("Flower needs FLOWER_BASIC_AUTH=user:password (make dev writes one to .dev/env)")
    return [*_celery(log_format), "flower", f"--port={port}", f"--address={address}", f"--basic-auth={basic_auth}"]
