"""Celery messages per transaction, counted by the workers themselves in Redis.

``workers.wakeups.wake`` INCRs ``stats:wakeups_published`` for each drain message it sends and the
drain task INCRs ``stats:drains`` each time it runs (sweeper wake-ups and re-wakes included), so
tasks_per_txn counts every drain task a workload cost, not an estimate.
"""

from dataclasses import dataclass

import redis

WAKEUPS = "stats:wakeups_published"
DRAINS = "stats:drains"


@dataclass(frozen=True)
class Counts:
    wakeups: int
    drains: int

    def __sub__(self, other: "Counts") -> "Counts":
        return Counts(self.wakeups - other.wakeups, self.drains - other.drains)


def read(redis_url: str) -> Counts:
    client = redis.Redis.from_url(redis_url)
    try:
        wakeups, drains = client.mget(WAKEUPS, DRAINS)
    finally:
        client.close()
    return Counts(int(wakeups or 0), int(drains or 0))
