"""Wake-ups: ask the worker of a partition to drain it, with at most one pending ask per partition.

The API calls ``wake`` right after its commit. A wake-up is only a nudge: the queued row is already
durable, so a wake-up that cannot be sent is logged and left to the sweeper, never raised into the
request. Every network step is bounded by ``publish_timeout`` (socket timeouts, no reconnect loop,
no publish retry), so a dead or hung Redis cannot hold a request open.

Coalescing: ``SET wake:pNN 1 NX EX ttl`` and publish the drain only when the key was newly set.
A running drain holds the keys of all its worker's partitions (``hold``), so requests during it
cost one Redis round trip and no message; when it has found nothing for a while it deletes them
(``release``) and then looks one last time, so a row committed after that point sets its key again
and brings a new drain, and one committed before it is seen. A burst of N requests costs one or
two messages, not N. The TTL bounds how long a key whose message was lost can mute its partition;
the sweeper does not wait for it (``coalesce=False``).
"""

import logging
import os
import threading
from collections.abc import Iterable

import redis
from kombu import Connection
from kombu.pools import ProducerPool
from redis.backoff import NoBackoff
from redis.retry import Retry

import settings
from celeryconfig import TaskName, ledger_queue
from workers.app import celery_app

log = logging.getLogger(__name__)

# Redis counters read by the bench (bench/counters.py) to report Celery tasks per transaction.
WAKEUPS_PUBLISHED = "stats:wakeups_published"
DRAINS_RUN = "stats:drains"
# Producers kept per process; more concurrent publishers wait (bounded) for one.
PRODUCER_POOL_LIMIT = 10


def wake_key(partition: int) -> str:
    return f"wake:p{partition:02d}"


class Wakeups:
    """The send side of the queue for one process: its Redis client and its producer pool.

    Sockets must not cross a fork, so both are opened lazily and again in a forked child.
    """

    def __init__(self, redis_url: str, *, publish_timeout: float, ttl: int) -> None:
        self.redis_url = redis_url
        self.publish_timeout = publish_timeout
        self.ttl = ttl
        self._lock = threading.Lock()
        self._pid: int | None = None

    @classmethod
    def from_settings(cls) -> "Wakeups":
        return cls(
            settings.REDIS_URL, publish_timeout=settings.BROKER_PUBLISH_TIMEOUT_SECONDS, ttl=settings.WAKE_TTL_SECONDS
        )

    def wake(self, partitions: Iterable[int], *, coalesce: bool = True) -> None:
        """Make sure a drain is pending for each partition. Never raises."""
        partitions = sorted(set(partitions))
        if not partitions:
            return
        try:
            if len(partitions) == 1:
                # The single request's case: one command, without a pipeline's bookkeeping.
                was_set = [self._redis().set(wake_key(partitions[0]), 1, nx=coalesce, ex=self.ttl)]
            else:
                pipe = self._redis().pipeline(transaction=False)
                for partition in partitions:
                    pipe.set(wake_key(partition), 1, nx=coalesce, ex=self.ttl)
                was_set = pipe.execute()
            newly_set = [p for p, set_now in zip(partitions, was_set, strict=True) if set_now]
        except Exception:
            log.warning("Redis unreachable: wake-up of partitions %s left to the sweeper", partitions, exc_info=True)
            return
        sent = 0
        for partition in newly_set:
            try:
                self.publish(TaskName.DRAIN, ledger_queue(partition), args=(partition,))
            except Exception:
                unsent = newly_set[sent:]
                log.warning("broker unreachable: wake-up of partitions %s left to the sweeper", unsent, exc_info=True)
                # A key without its message would mute the partition until the key expires.
                self.release(unsent)
                break
            sent += 1
        self.count(WAKEUPS_PUBLISHED, sent)

    def hold(self, partitions: Iterable[int]) -> None:
        """A drain of ``partitions`` is running: set their keys, so requests meanwhile send no message."""
        try:
            pipe = self._redis().pipeline(transaction=False)
            for partition in partitions:
                pipe.set(wake_key(partition), 1, ex=self.ttl)
            pipe.execute()
        except Exception:
            log.warning("could not set the wake-up keys of partitions %s", list(partitions), exc_info=True)

    def release(self, partitions: Iterable[int]) -> None:
        """The drain is about to look one last time: from now on a commit must wake it again."""
        try:
            self._redis().delete(*[wake_key(p) for p in partitions])
        except Exception:
            log.warning("could not clear the wake-up keys of partitions %s", list(partitions), exc_info=True)

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a statistics counter; a statistic is never worth an error, so failures are only logged."""
        if not amount:
            return
        try:
            self._redis().incrby(name, amount)
        except Exception:
            log.warning("could not count %s", name, exc_info=True)

    def publish(self, task_name: str, queue: str, args: tuple = ()) -> None:
        """Send a task by name with the same bounded timeouts as a wake-up; raises if it fails."""
        self._open()
        with self._producers.acquire(block=True, timeout=self.publish_timeout) as producer:
            celery_app.send_task(task_name, args=args, queue=queue, producer=producer, retry=False)

    def close(self) -> None:
        """Close this process's Redis client and broker connections (a process, or an app, that is done)."""
        with self._lock:
            if self._pid != os.getpid():
                return
            self._producers.force_close_all()
            self._producers.connections.force_close_all()
            self._client.close()
            self._pid = None

    def _redis(self) -> redis.Redis:
        self._open()
        return self._client

    def _open(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            timeout = self.publish_timeout
            self._client = redis.Redis.from_url(
                self.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
            )
            connection = Connection(
                self.redis_url,
                connect_timeout=timeout,
                # max_retries 0: one connection attempt per publish, not kombu's retry-until-timeout loop.
                transport_options={"socket_timeout": timeout, "socket_connect_timeout": timeout, "max_retries": 0},
            )
            self._producers = ProducerPool(connection.Pool(limit=PRODUCER_POOL_LIMIT), limit=PRODUCER_POOL_LIMIT)
            self._pid = os.getpid()
