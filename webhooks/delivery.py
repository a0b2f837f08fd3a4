"""Delivering outbox rows: claim the due ones, POST each, record the attempt and what comes next.

Every step is a short database transaction of its own, and no connection is held while the HTTP
request is in flight. Due retries live in PostgreSQL (``next_attempt_at``), not in the broker.

Leases: a claim pushes a row's ``next_attempt_at`` one lease ahead and gives it a new
``lease_id``, which is also the id of the one Celery task allowed to send it. A worker that dies
holding the row (claimed but never sent, or killed mid-POST) lets the lease run out; the row comes
due, is claimed again under a new id, and any task left over from the old claim finds it is not
its own and does nothing. The price is at-least-once: a receiver may see an event twice, with the
same ``webhook-id``.

Each attempt writes one log line (``event: webhook_attempt``): the delivery (outbox row) id, the
attempt, the event type, the transaction's id, the outcome (``delivered``, ``retry`` with its next
time, ``failed`` when given up) and what the receiver answered.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session, joinedload, sessionmaker
from standardwebhooks.webhooks import EmptyWebhookSecretError

from webhooks import retries
from webhooks.models import DeliveryStatus, EndpointStatus, WebhookAttempt, WebhookMessage
from webhooks.payloads import event_payload, sign
from webhooks.transport import Response, Transport

log = logging.getLogger(__name__)

CLAIM_DUE = text(
    """
    UPDATE webhook_messages
    SET lease_id = gen_random_uuid(), next_attempt_at = now() + make_interval(secs => :lease)
    WHERE id IN (
        SELECT id FROM webhook_messages
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, lease_id
    """
)

# The lease now covers the request itself (its timeout and a lease more), so only a worker that
# died in the middle loses the row.
START_SENDING = text(
    """
    UPDATE webhook_messages
    SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => :hold)
    WHERE id = :id AND lease_id = :lease_id AND status = 'pending'
    RETURNING id
    """
)

SETTLE = text(
    """
    UPDATE webhook_messages
    SET status = :status, lease_id = NULL,
        next_attempt_at = now() + make_interval(secs => CAST(:delay AS double precision))
    WHERE id = :id AND lease_id = :lease_id AND status = 'pending'
    RETURNING next_attempt_at
    """
)

DISABLE_ENDPOINT = text(
    """
    WITH disabled AS (
        UPDATE webhook_endpoints SET status = 'disabled', disabled_at = now(), disabled_reason = :reason
        WHERE id = :id AND status = 'active'
        RETURNING id
    )
    UPDATE webhook_messages SET status = 'failed', next_attempt_at = NULL, lease_id = NULL
    WHERE endpoint_id IN (SELECT id FROM disabled) AND status = 'pending'
    """
)


@dataclass(frozen=True)
class DeliveryPolicy:
    """The knobs of delivery, from settings (this package reads no environment), and the way out."""

    server_secret: str
    timeout: float
    schedule: list[float]
    lease_seconds: float
    transport: Transport


@dataclass(frozen=True)
class Claim:
    message_id: uuid.UUID
    lease_id: uuid.UUID


@dataclass(frozen=True)
class Request:
    claim: Claim
    endpoint_id: uuid.UUID | None
    url: str
    attempt: int
    event_type: str
    transaction_id: uuid.UUID
    body: bytes | None
    headers: dict[str, str]
    # Stands in for the POST when nothing can be sent (no secret, endpoint disabled).
    unsent: Response | None = None


def claim_due(session: Session, *, limit: int, lease_seconds: float) -> list[Claim]:
    """Lease up to ``limit`` due rows to the caller, who commits, then sends one task per claim."""
    return [Claim(*row) for row in session.execute(CLAIM_DUE, {"lease": lease_seconds, "limit": limit})]


def deliver_message(session_factory: sessionmaker[Session], claim: Claim, policy: DeliveryPolicy) -> str:
    """Send one claimed row and settle it: 'delivered', 'retry', 'failed', or 'skipped' if not ours."""
    with session_factory() as session, session.begin():
        request = _start(session, claim, policy)
    if request is None:
        return "skipped"
    attempted_at = datetime.now(UTC)
    if request.unsent is not None:
        response = request.unsent
    else:
        response = policy.transport.post(request.url, request.body, request.headers)
    with session_factory() as session, session.begin():
        outcome, next_attempt_at = _settle(session, request, response, attempted_at, policy)
    _log_attempt(request, response, outcome, next_attempt_at)
    return outcome


def _start(session: Session, claim: Claim, policy: DeliveryPolicy) -> Request | None:
    hold = policy.timeout + policy.lease_seconds
    started = session.execute(START_SENDING, {"id": claim.message_id, "lease_id": claim.lease_id, "hold": hold})
    if started.scalar() is None:
        return None
    query = (
        select(WebhookMessage).where(WebhookMessage.id == claim.message_id).options(joinedload(WebhookMessage.endpoint))
    )
    message = session.scalars(query).one()
    endpoint = message.endpoint

    def request(body: bytes | None = None, headers: dict | None = None, unsent=None) -> Request:
        return Request(
            claim,
            message.endpoint_id,
            message.url,
            message.attempts,
            message.event_type,
            message.transaction_id,
            body,
            headers or {},
            unsent,
        )

    if endpoint is not None and endpoint.status != EndpointStatus.ACTIVE:
        return request(unsent=Response(None, f"endpoint is {endpoint.status}", 0, refused=True))
    body = json.dumps(event_payload(session, message), separators=(",", ":"))
    try:
        headers = sign(endpoint.secret if endpoint else policy.server_secret, message.id, body, datetime.now(UTC))
    except EmptyWebhookSecretError:
        # A configuration fault that a restart with the secret cures: retried like an outage.
        return request(unsent=Response(None, "no WEBHOOK_SECRET is configured to sign with", 0))
    return request(body.encode(), {"content-type": "application/json", **headers})


def _settle(
    session: Session, request: Request, response: Response, attempted_at: datetime, policy: DeliveryPolicy
) -> tuple[str, datetime | None]:
    verdict = retries.FAIL if response.refused else retries.verdict(response.status)
    delay = None
    if verdict == retries.RETRY:
        retry_after = retries.parse_retry_after(response.retry_after)
        delay = retries.retry_delay(request.attempt, policy.schedule, retry_after)
        if delay is None:
            verdict = retries.FAIL
    status = {retries.DELIVERED: DeliveryStatus.DELIVERED, retries.RETRY: DeliveryStatus.PENDING}.get(
        verdict, DeliveryStatus.FAILED
    )
    # NULL delay, NULL next_attempt_at: the row is settled for good.
    claim = request.claim
    settled = session.execute(
        SETTLE, {"id": claim.message_id, "lease_id": claim.lease_id, "status": status, "delay": delay}
    )
    next_attempt_at = settled.scalar()
    session.add(
        WebhookAttempt(
            message_id=claim.message_id,
            endpoint_id=request.endpoint_id,
            attempted_at=attempted_at,
            response_status=response.status,
            error=response.error,
            latency_ms=response.latency_ms,
            next_attempt_at=next_attempt_at,
        )
    )
    if verdict == retries.DISABLE and request.endpoint_id is not None:
        log.warning("webhook endpoint %s answered 410 Gone: disabled", request.endpoint_id)
        session.execute(DISABLE_ENDPOINT, {"id": request.endpoint_id, "reason": "the endpoint answered 410 Gone"})
    return ("retry" if status == DeliveryStatus.PENDING else str(status)), next_attempt_at


def _log_attempt(request: Request, response: Response, outcome: str, next_attempt_at: datetime | None) -> None:
    # After the commit: the line says what the database now holds.
    context = {
        "event": "webhook_attempt",
        "delivery_id": str(request.claim.message_id),
        "attempt": request.attempt,
        "event_type": request.event_type,
        "transaction_id": str(request.transaction_id),
        "endpoint_id": str(request.endpoint_id) if request.endpoint_id else None,
        "outcome": outcome,
        "status_code": response.status,
        "latency_ms": response.latency_ms,
    }
    if response.error:
        context["error"] = response.error
    if next_attempt_at is not None:
        context["next_attempt_at"] = next_attempt_at.isoformat()
    level = logging.INFO if outcome == DeliveryStatus.DELIVERED else logging.WARNING
    log.log(level, "webhook %s: %s, attempt %d", request.event_type, outcome, request.attempt, extra=context)
