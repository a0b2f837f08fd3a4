"""Which worker process consumes which partition queues.

Partition numbers come from ``ledger.partitions`` (CRC-32, the same in every process) and queue
names from ``celeryconfig``; this module deals the partitions out to ledger worker processes.
"""

from celeryconfig import QueueName, ledger_queue


def partitions_for_worker(index: int, count: int, partitions: int) -> list[int]:
    """Deal partitions round-robin, so processes differ by at most one partition."""
    if not 0 <= index < count:
        raise ValueError(f"worker index {index} is not in 0..{count - 1}")
    return list(range(index, partitions, count))


def worker_queues(index: int, count: int, partitions: int) -> list[str]:
    """Ledger worker ``index`` of ``count``: its partitions' queues, and maintenance (beat's jobs)."""
    return [ledger_queue(p) for p in partitions_for_worker(index, count, partitions)] + [QueueName.MAINTENANCE]
