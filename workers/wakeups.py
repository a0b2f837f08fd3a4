"""Wake-ups: ask the worker of a partition to drain it, with at most one pending ask per partition.

The API calls ``wake`` right after its commit. A wake-up is only a nudge: the queued row is already
durable, so a wake-up that cannot be sent is logged and left to the sweeper, never raised into the
request. Every network step is bounded by ``BROKER_PUBLISH_TIMEOUT_SECONDS`` (socket timeouts, no
reconnect loop, no publish retry), so a dead or hung Redis cannot hold a request open.

Coalescing: ``SET wake:pNN 1 NX EX WAKE_TTL_SECONDS`` and publish the drain only when the key was
newly set. The drain deletes the key before it reads the database (``drain_started``), so a row committed
after that point sets the key again and brings a new drain. A burst of N requests to one partition
costs one or two messages, not N. The TTL bounds how long a key whose message was lost can mute its
partition; the sweeper does not wait for it (``coalesce=False``).
"""

import logging
import os
import threading
from collections.abc import Iterable

import redis
from kombu.pools import ProducerPool
from redis.backoff import NoBackoff
from redis.retry import Retry

import settings
from workers.app import celery_app
from workers.routing import queue_for

log = logging.getLogger(__name__)

DRAIN_TASK = "workers.tasks.drain"
# Redis counters read by the bench (bench/counters.py) to report Celery tasks per transaction.
WAKEUPS_PUBLISHED = "stats:wakeups_published"
DRAINS_RUN = "stats:drains"
# Producers kept per process; more concurrent publishers wait (bounded) for one.
PRODUCER_POOL_LIMIT = 10


def wake_key(partition: int) -> str:
    return f"wake:p{partition:02d}"


def wake(partitions: Iterable[int], *, coalesce: bool = True) -> None:
    """Make sure a drain is pending for each partition. Never raises."""
    partitions = sorted(set(partitions))
    if not partitions:
        return
    try:
        broker = _broker()
        pipe = broker.redis.pipeline(transaction=False)
        for partition in partitions:
            pipe.set(wake_key(partition), 1, nx=coalesce, ex=settings.WAKE_TTL_SECONDS)
        newly_set = [p for p, was_set in zip(partitions, pipe.execute(), strict=True) if was_set]
    except Exception:
        log.warning("Redis unreachable: wake-up of partitions %s left to the sweeper", partitions, exc_info=True)
        return
    sent = 0
    for partition in newly_set:
        try:
            publish(DRAIN_TASK, queue_for(partition), args=(partition,))
        except Exception:
            unsent = newly_set[sent:]
            log.warning("broker unreachable: wake-up of partitions %s left to the sweeper", unsent, exc_info=True)
            # A key without its message would mute the partition until the key expires.
            _forget(broker, unsent)
            break
        sent += 1
    count(WAKEUPS_PUBLISHED, sent)


def drain_started(partition: int) -> None:
    """Called by the drain before it reads the database: later commits must wake it again.

    Deletes the partition's key and counts the drain, in one round trip.
    """
    try:
        pipe = _broker().redis.pipeline(transaction=False)
        pipe.delete(wake_key(partition))
        pipe.incr(DRAINS_RUN)
        pipe.execute()
    except Exception:
        log.warning("could not clear the wake-up key of partition %s", partition, exc_info=True)


def count(name: str, amount: int = 1) -> None:
    """Add to a statistics counter; a statistic is never worth an error, so failures are only logged."""
    if not amount:
        return
    try:
        _broker().redis.incrby(name, amount)
    except Exception:
        log.warning("could not count %s", name, exc_info=True)


def publish(task_name: str, queue: str, args: tuple = ()) -> None:
    """Send a task by name with the same bounded timeouts as a wake-up; raises if it fails."""
    broker = _broker()
    with broker.producers.acquire(block=True, timeout=settings.BROKER_PUBLISH_TIMEOUT_SECONDS) as producer:
        celery_app.send_task(task_name, args=args, queue=queue, producer=producer, retry=False)


def _forget(broker: "_Broker", partitions: list[int]) -> None:
    try:
        broker.redis.delete(*[wake_key(p) for p in partitions])
    except Exception:
        log.warning("could not clear wake-up keys of partitions %s", partitions, exc_info=True)


class _Broker:
    """Redis client and producer pool of one process (sockets must not cross a fork)."""

    def __init__(self) -> None:
        timeout = settings.BROKER_PUBLISH_TIMEOUT_SECONDS
        self.pid = os.getpid()
        self.redis = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        connection = celery_app.connection_for_write(
            connect_timeout=timeout,
            # max_retries 0: one connection attempt per publish, not kombu's retry-until-timeout loop.
            transport_options={"socket_timeout": timeout, "socket_connect_timeout": timeout, "max_retries": 0},
        )
        self.producers = ProducerPool(connection.Pool(limit=PRODUCER_POOL_LIMIT), limit=PRODUCER_POOL_LIMIT)


_lock = threading.Lock()
_current: _Broker | None = None


def _broker() -> _Broker:
    global _current
    with _lock:
        if _current is None or _current.pid != os.getpid():
            _current = _Broker()
        return _current
