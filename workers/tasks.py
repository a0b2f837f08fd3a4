"""Thin Celery tasks over ``ledger``: drain the worker's partitions, and sweep for lost wake-ups.

Shutdown and crashes: on SIGTERM Celery performs a warm shutdown, so the drain in progress finishes
(at most ``DRAIN_MAX_SECONDS``) and commits before the process exits. A process killed outright
(SIGKILL, OOM, power loss) leaves its batch's database transaction open; PostgreSQL rolls it back
when the connection drops, the rows are still ``queued``, and the next drain (a new wake-up, the
redelivered late-acked message, or the sweeper) decides them. Nothing is applied twice: a decided
transaction can never be decided again (the database refuses it), so a batch that tried would
roll back whole.
"""

import logging
import time
from datetime import timedelta

import settings
from celeryconfig import QueueName, TaskName
from ledger.holds import expire_due_holds
from ledger.queries import stale_partitions
from observability.metrics.engine import DRAINS
from webhooks.outbox import record_events
from workers.app import celery_app, owned_partitions, session_factory
from workers.draining import DrainPolicy, drain
from workers.wakeups import DRAINS_RUN, Wakeups

log = logging.getLogger(__name__)

wakeups = Wakeups.from_settings()
# The delivery worker is nudged at most this often while a drain writes webhook events; beat's
# schedule picks up the rest.
NUDGE_EVERY_SECONDS = 1.0


def policy() -> DrainPolicy:
    return DrainPolicy(
        batch_size=settings.APPLY_BATCH_SIZE,
        max_seconds=settings.DRAIN_MAX_SECONDS,
        pace=settings.DRAIN_PACE_SECONDS,
        linger=settings.DRAIN_LINGER_SECONDS,
    )


@celery_app.task(name=TaskName.DRAIN)
def drain_partitions(partition: int) -> dict:
    """Apply the queued rows of every partition this worker owns (``partition`` included), in order.

    Sent by ``Wakeups.wake`` to ``ledger.pNN``; whichever of its partitions woke the worker, one
    drain serves them all, so rows of every partition share batches.
    """
    partitions = sorted({*owned_partitions(), partition})
    wakeups.count(DRAINS_RUN)
    DRAINS.inc()
    nudged = [0.0]

    def nudge_delivery() -> None:
        if time.monotonic() - nudged[0] < NUDGE_EVERY_SECONDS:
            return
        nudged[0] = time.monotonic()
        try:
            wakeups.publish(TaskName.DELIVER_DUE, QueueName.WEBHOOKS)
        except Exception:
            log.warning("could not nudge webhook delivery; its beat schedule will", exc_info=True)

    result = drain(
        partitions,
        session_factory=session_factory(),
        wakeups=wakeups,
        policy=policy(),
        on_decided=record_events,
        on_events=nudge_delivery,
    )
    if not result.exhausted:
        # Out of time with rows left: queue behind the other work of this worker, then carry on.
        wakeups.wake([partition], coalesce=False)
    return {
        "partitions": partitions,
        "applied": len(result.applied),
        "rejected": len(result.rejected),
        "batches": result.batches,
        "exhausted": result.exhausted,
    }


@celery_app.task(name=TaskName.SWEEP)
def sweep() -> list[int]:
    """Queue the expiry of every hold past its time, and wake every partition holding a row queued
    for too long (its wake-up was lost)."""
    with session_factory()() as session:
        expiring = expire_due_holds(session)
        session.commit()
        stale = stale_partitions(session, timedelta(seconds=settings.SWEEP_QUEUED_AGE_SECONDS))
    if expiring:
        log.info("sweeper: holds expiring in partitions %s", expiring)
        wakeups.wake(expiring)
    if stale:
        log.info("sweeper: waking stale partitions %s", stale)
        # Bypass coalescing: the key of a partition whose message was lost may still be set.
        wakeups.wake(stale, coalesce=False)
    return sorted(set(stale) | set(expiring))
