"""One drain: a worker process applying its partitions' queued rows until they stay empty a while.

A Celery task per batch of one or two rows would cost more than the rows (a task is a message,
a pool hand-off, an acknowledgement and events). So a woken worker keeps draining: batch after
batch over all the partitions it owns, one database transaction each, at most one batch every
``pace`` seconds so rows gather between batches (the latency this adds is at most ``pace``), and
only after ``linger`` seconds without a row does it release the wake-up keys, look one last time,
and return. Under steady traffic one task carries thousands of transactions.

Each batch that decided anything writes one log line (``event: batch``): its partitions, size,
duration, and the ids it applied and rejected (with why), so a transaction's id finds its decision.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from ledger.enums import TransactionStatus
from ledger.posting import BatchResult, DecisionHook, DrainResult, apply_with_retry
from observability.metrics.engine import observe_batch
from workers.wakeups import Wakeups

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrainPolicy:
    batch_size: int
    # The longest a task drains before it yields the worker to what else is queued for it.
    max_seconds: float
    # Least time between the starts of two batches that were not full.
    pace: float
    # How long a drain goes on finding nothing before it stops.
    linger: float


def drain(
    partitions: Sequence[int],
    *,
    session_factory: sessionmaker[Session],
    wakeups: Wakeups,
    policy: DrainPolicy,
    on_decided: DecisionHook | None = None,
    on_events: Callable[[], None] = lambda: None,
) -> DrainResult:
    """Drain ``partitions`` until idle for ``policy.linger`` or out of time (``exhausted`` False)."""
    result = DrainResult()
    wakeups.hold(partitions)
    deadline = time.monotonic() + policy.max_seconds
    idle_since: float | None = None
    while True:
        started = time.monotonic()
        batch = _apply(session_factory, partitions, policy.batch_size, on_decided)
        result.add(batch)
        if batch.events:
            on_events()
        if batch.decisions:
            idle_since = None
        elif idle_since is None:
            idle_since = started
        elif started - idle_since >= policy.linger:
            # Release first, then look: a row committed after the release wakes a new drain.
            wakeups.release(partitions)
            last = _apply(session_factory, partitions, policy.batch_size, on_decided)
            result.add(last)
            if not last.decisions:
                return result
            wakeups.hold(partitions)
            idle_since = None
        if time.monotonic() >= deadline:
            result.exhausted = False
            return result
        if len(batch.decisions) < policy.batch_size:
            time.sleep(max(0.0, policy.pace - (time.monotonic() - started)))


def _apply(
    session_factory: sessionmaker[Session], partitions: Sequence[int], batch_size: int, on_decided: DecisionHook | None
) -> BatchResult:
    """One batch, timed, then counted and logged once committed (a batch that rolled back for good raises first).

    A batch that decided nothing (a drain's idle look) is neither counted nor logged.
    """
    started = time.perf_counter()
    batch = apply_with_retry(session_factory, partitions, batch_size, on_decided)
    duration = time.perf_counter() - started
    if batch.decisions:
        observe_batch(batch.decisions, batch.latencies, duration)
        _log_batch(partitions, batch, duration * 1000)
    return batch


def _log_batch(partitions: Sequence[int], batch: BatchResult, duration_ms: float) -> None:
    """One line per decided batch; applied ids include holds (``held``), as in ``DrainResult``.
    Its id lists are built only when INFO is on: a batch holds up to APPLY_BATCH_SIZE (3,000)."""
    if not log.isEnabledFor(logging.INFO):
        return
    applied = [d.transaction_id for d in batch.decisions if d.status != TransactionStatus.REJECTED]
    rejections = [
        {"transaction_id": d.transaction_id, "failure_code": str(d.failure_code)}
        for d in batch.decisions
        if d.status == TransactionStatus.REJECTED
    ]
    log.info(
        "batch: %d applied, %d rejected in %.1f ms",
        len(applied),
        len(rejections),
        duration_ms,
        extra={
            "event": "batch",
            "partitions": list(partitions),
            "batch_size": len(batch.decisions),
            "applied": len(applied),
            "rejected": len(rejections),
            "duration_ms": round(duration_ms, 1),
            "applied_ids": applied,
            "rejections": rejections,
            "webhook_events": batch.events,
        },
    )
