"""The whole Celery configuration as one block, built from ``settings`` (environment variables).

Each value says why it is set. Redis carries wake-ups only: PostgreSQL holds every request, so a
lost message costs at most a sweep interval of delay, never money.
"""

from datetime import timedelta
from enum import StrEnum

from kombu import Exchange, Queue

import settings


class QueueName(StrEnum):
    """The queues besides the partitions' own (``ledger_queue``)."""

    # Webhook delivery: slow client endpoints stay off the money path.
    WEBHOOKS = "webhooks"
    # Beat's jobs, consumed by every ledger worker, so whichever is idle sweeps.
    MAINTENANCE = "maintenance"


class TaskName(StrEnum):
    """Tasks are sent by name (the API imports no task code); the worker modules register these."""

    DRAIN = "workers.tasks.drain"
    SWEEP = "workers.tasks.sweep"
    DELIVER_DUE = "workers.webhooks.deliver_due"
    DELIVER = "workers.webhooks.deliver"


def ledger_queue(partition: int) -> str:
    """The queue of one partition: ``ledger.p00`` ..., consumed by exactly one worker process."""
    return f"ledger.p{partition:02d}"


def ledger_queues(partitions: int) -> list[str]:
    return [ledger_queue(p) for p in range(partitions)]


def _queue(name: str) -> Queue:
    # A direct exchange of its own per queue. Celery publishes to queues through the default
    # exchange, so routing needs no binding in Redis and survives a flushed Redis.
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


CELERY_CONFIG = {
    # Redis is the broker; the coalescing keys of workers.wakeups live on the same server.
    "broker_url": settings.REDIS_URL,
    "broker_connection_retry_on_startup": True,
    "broker_transport_options": {
        # A message taken but never acknowledged (its worker was killed) is delivered again after
        # this long. It must exceed the longest task (DRAIN_MAX_SECONDS) or a slow drain would
        # be handed to a second process: harmless (advisory lock, status guard) but wasted.
        "visibility_timeout": settings.BROKER_VISIBILITY_TIMEOUT,
    },
    # Outcomes live in PostgreSQL (transaction status), so there is no result backend.
    "result_backend": None,
    "task_ignore_result": True,
    # Acknowledge when a task ends, not when it starts: a drain cut short leaves its message to be
    # delivered again, and a drain is idempotent (every status change is guarded by 'queued').
    "task_acks_late": True,
    # ...also when the pool process itself dies (SIGKILL, OOM), not only on an exception.
    "task_reject_on_worker_lost": True,
    # A late-acked message whose connection is gone will be redelivered anyway: stop working on it.
    "worker_cancel_long_running_tasks_on_connection_loss": True,
    # One message at a time per process: a worker busy on one partition must not hold the
    # wake-ups of the other partitions it serves.
    "worker_prefetch_multiplier": 1,
    # One queue per partition, consumed by one process with concurrency 1, so a partition is
    # applied in order; and the two of QueueName.
    "task_queues": [_queue(name) for name in [*ledger_queues(settings.PARTITIONS), *QueueName]],
    # Every task has a named queue; nothing may fall into a `celery` queue that nobody consumes.
    "task_create_missing_queues": False,
    "task_default_queue": QueueName.MAINTENANCE,
    "task_routes": {
        # drain has no route: workers.wakeups sends it to the queue of the partition it drains.
        TaskName.SWEEP: {"queue": QueueName.MAINTENANCE},
        TaskName.DELIVER_DUE: {"queue": QueueName.WEBHOOKS},
        TaskName.DELIVER: {"queue": QueueName.WEBHOOKS},
    },
    # The worker imports these modules for their tasks (and its metrics server); the API only sends by name.
    "imports": ["workers.tasks", "workers.webhooks", "workers.metrics"],
    # Task events for Flower (the -E worker flag turns them on too).
    "worker_send_task_events": True,
    "beat_schedule": {
        "sweep-stale-partitions": {
            "task": TaskName.SWEEP,
            "schedule": timedelta(seconds=settings.SWEEP_INTERVAL_SECONDS),
            # A sweep not started within its interval is superseded by the next one.
            "options": {"expires": settings.SWEEP_INTERVAL_SECONDS},
        },
        "deliver-due-webhooks": {
            "task": TaskName.DELIVER_DUE,
            "schedule": timedelta(seconds=settings.WEBHOOK_POLL_SECONDS),
            "options": {"expires": settings.WEBHOOK_POLL_SECONDS},
        },
    },
    # JSON only: nothing on the broker can make a worker unpickle an arbitrary object.
    "task_serializer": "json",
    "accept_content": ["json"],
    "timezone": "UTC",
    "enable_utc": True,
}
