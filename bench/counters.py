"""Celery messages per transaction, counted by the workers themselves in Redis.

``Wakeups.wake`` INCRs ``stats:wakeups_published`` for each drain message it sends and the drain
task INCRs ``stats:drains`` each time it runs (sweeper wake-ups and re-wakes included), so
tasks_per_txn counts every drain task a workload cost, not an estimate. A drain that is still
running from the workload before (it lingers, DRAIN_LINGER_SECONDS) serves the next one for free,
so a workload may cost no task at all; a counter that was never written, though, is ``None``.
"""

from dataclasses import dataclass

import redis

from workers.wakeups import DRAINS_RUN, WAKEUPS_PUBLISHED


@dataclass(frozen=True)
class Counts:
    wakeups: int | None
    drains: int | None

    def __sub__(self, other: "Counts") -> "Counts":
        return Counts(_minus(self.wakeups, other.wakeups), _minus(self.drains, other.drains))


def read(redis_url: str) -> Counts:
    client = redis.Redis.from_url(redis_url)
    try:
        wakeups, drains = client.mget(WAKEUPS_PUBLISHED, DRAINS_RUN)
    finally:
        client.close()
    return Counts(_int(wakeups), _int(drains))


def _int(value: bytes | None) -> int | None:
    return None if value is None else int(value)


def _minus(after: int | None, before: int | None) -> int | None:
    return None if after is None else after - (before or 0)
