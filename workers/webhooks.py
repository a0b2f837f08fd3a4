"""Webhook delivery tasks, on the ``webhooks`` queue only, run by a worker of their own (threads).

A slow or dead receiver holds one of that worker's threads for at most WEBHOOK_TIMEOUT_SECONDS and
never a ledger partition: money keeps moving whatever the receivers do. Retries are rows due in
PostgreSQL, found by ``deliver_due`` on its beat schedule, never long Celery countdowns.
"""

import logging
import uuid

import settings
from celeryconfig import TaskName
from observability.metrics.webhooks import DELIVERIES
from webhooks.delivery import Claim, DeliveryPolicy, claim_due, deliver_message
from webhooks.transport import HttpTransport
from workers.app import celery_app, session_factory

log = logging.getLogger(__name__)

# Rows leased per poll: about what the webhooks worker can send well within a lease.
CLAIM_LIMIT = 500


def policy() -> DeliveryPolicy:
    return DeliveryPolicy(
        server_secret=settings.WEBHOOK_SECRET,
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        schedule=settings.WEBHOOK_RETRY_SCHEDULE,
        lease_seconds=settings.WEBHOOK_LEASE_SECONDS,
        transport=HttpTransport(settings.WEBHOOK_TIMEOUT_SECONDS, settings.WEBHOOK_ALLOW_PRIVATE),
    )


@celery_app.task(name=TaskName.DELIVER_DUE)
def deliver_due() -> int:
    """Lease the due outbox rows and send one ``deliver`` each; beat runs it, so does a drain with events."""
    with session_factory()() as session, session.begin():
        claims = claim_due(session, limit=CLAIM_LIMIT, lease_seconds=settings.WEBHOOK_LEASE_SECONDS)
    # After the commit, so a task finds its claim. The task id is the claim's lease id: the row
    # is sent only by the task of its latest claim. A send that fails leaves the rest claimed;
    # their lease runs out and a later poll claims them again.
    for claim in claims:
        deliver.apply_async((str(claim.message_id),), task_id=str(claim.lease_id))
    return len(claims)


@celery_app.task(name=TaskName.DELIVER, bind=True)
def deliver(self, message_id: str) -> str:
    """POST one event and record the attempt; the outcome ('delivered', 'retry', ...) is logged by Celery."""
    claim = Claim(uuid.UUID(message_id), uuid.UUID(self.request.id))
    outcome = deliver_message(session_factory(), claim, policy())
    DELIVERIES.labels(outcome).inc()
    return outcome
