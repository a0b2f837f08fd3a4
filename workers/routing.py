"""Which Celery queue serves which partition, and which worker process consumes which queues.

Partition numbers come from ``ledger.partitions`` (CRC-32, the same in every process); this module
only names their queues. ``python -m workers.routing INDEX COUNT`` prints the ``-Q`` argument of
ledger worker INDEX out of COUNT, for the Procfile and docker-compose.
"""

import sys

import settings

# Queues every ledger worker consumes besides its partitions: beat jobs go to whichever is idle.
SHARED_QUEUES = ("maintenance",)


def queue_for(partition: int) -> str:
    return f"ledger.p{partition:02d}"


def ledger_queues(partitions: int) -> list[str]:
    return [queue_for(p) for p in range(partitions)]


def partitions_for_worker(index: int, count: int, partitions: int | None = None) -> list[int]:
    """Deal partitions round-robin, so processes differ by at most one partition."""
    partitions = settings.PARTITIONS if partitions is None else partitions
    if not 0 <= index < count:
        raise ValueError(f"worker index {index} is not in 0..{count - 1}")
    return list(range(index, partitions, count))


def worker_queues(index: int, count: int) -> str:
    return ",".join([queue_for(p) for p in partitions_for_worker(index, count)] + list(SHARED_QUEUES))


if __name__ == "__main__":
    print(worker_queues(int(sys.argv[1]), int(sys.argv[2])))
