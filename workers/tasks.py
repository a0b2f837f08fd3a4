"""Thin Celery tasks over ``ledger``: drain a partition, and sweep for lost wake-ups.

Shutdown and crashes: on SIGTERM Celery performs a warm shutdown, so the drain in progress finishes
its current batches (at most ``DRAIN_MAX_SECONDS``) and commits before the process exits. A process
killed outright (SIGKILL, OOM, power loss) leaves its batch's database transaction open; PostgreSQL
rolls it back when the connection drops, the rows are still ``queued``, and the next drain (a new
wake-up, the redelivered late-acked message, or the sweeper) decides them. Nothing is applied twice:
every status change is guarded by ``status = 'queued'`` in the same transaction as the balances.
"""

import logging
from datetime import timedelta

import settings
from celeryconfig import QueueName, TaskName
from ledger.posting import drain_partition
from ledger.queries import stale_partitions
from webhooks.outbox import record_events
from workers.app import celery_app, session_factory
from workers.wakeups import Wakeups

log = logging.getLogger(__name__)

wakeups = Wakeups.from_settings()


@celery_app.task(name=TaskName.DRAIN)
def drain(partition: int) -> dict:
    """Apply the partition's queued transactions in order; sent by ``Wakeups.wake`` to ``ledger.pNN``."""
    # Before reading: a request committed from here on finds no key and publishes a new wake-up.
    wakeups.drain_started(partition)
    result = drain_partition(
        session_factory(),
        partition,
        batch_size=settings.APPLY_BATCH_SIZE,
        max_seconds=settings.DRAIN_MAX_SECONDS,
        on_decided=record_events,
    )
    if not result.exhausted:
        # Out of time with rows left: queue behind the other partitions of this worker.
        wakeups.wake([partition])
    if result.events:
        try:
            wakeups.publish(TaskName.DELIVER_DUE, QueueName.WEBHOOKS)
        except Exception:
            log.warning("could not nudge webhook delivery; its beat schedule will", exc_info=True)
    return {
        "applied": len(result.applied),
        "rejected": len(result.rejected),
        "batches": result.batches,
        "exhausted": result.exhausted,
    }


@celery_app.task(name=TaskName.SWEEP)
def sweep() -> list[int]:
    """Wake every partition holding a row queued for too long: its wake-up was lost."""
    with session_factory()() as session:
        stale = stale_partitions(session, timedelta(seconds=settings.SWEEP_QUEUED_AGE_SECONDS))
    if stale:
        log.info("sweeper: waking stale partitions %s", stale)
        # Bypass coalescing: the key of a partition whose message was lost may still be set.
        wakeups.wake(stale, coalesce=False)
    return stale
