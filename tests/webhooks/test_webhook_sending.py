"""One delivery step at a time, in this process: claim, POST to a real receiver, settle the row.

The Celery tasks are thin wrappers over these functions; the end-to-end tests run them in workers.
"""

import dataclasses
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from ledger.accept import TransactionRequest, record_transactions
from ledger.posting import drain_partitions
from ledger.queries import transaction_json
from tests.conftest import TEST_CLIENT
from webhooks.delivery import Claim, DeliveryPolicy, claim_due, deliver_message
from webhooks.endpoints import register_endpoint
from webhooks.outbox import record_events
from webhooks.transport import HttpTransport


@pytest.fixture
def policy(webhook_secret: str) -> DeliveryPolicy:
    return DeliveryPolicy(
        server_secret=webhook_secret,
        timeout=5,
        schedule=[0, 0],
        lease_seconds=30,
        transport=HttpTransport(timeout=5, allow_private=True),
    )


@pytest.fixture
def decide(session: Session, session_factory: sessionmaker, funded):
    """``decide(amount, callback_url=...)``: a transfer from alice (100 cents) to bob, applied or rejected."""
    funded("alice", 100)
    funded("bob")

    def run(amount: int, **options) -> uuid.UUID:
        [accepted] = record_transactions(
            session, TEST_CLIENT, [TransactionRequest("transfer", "alice", "bob", amount, **options)], 1
        )
        session.commit()
        drain_partitions(session_factory, [0], batch_size=100, max_seconds=60, on_decided=record_events)
        return accepted.id

    return run


def claim(session_factory: sessionmaker, lease: float = 30) -> list[Claim]:
    with session_factory() as session, session.begin():
        return claim_due(session, limit=100, lease_seconds=lease)


def message_state(session: Session) -> list[tuple]:
    session.expire_all()
    return [
        tuple(row)
        for row in session.execute(
            text("SELECT status, attempts, next_attempt_at IS NOT NULL FROM webhook_messages ORDER BY created_at")
        )
    ]


def attempts(session: Session) -> list[tuple]:
    return [
        tuple(row) for row in session.execute(text("SELECT response_status, error FROM webhook_attempts ORDER BY id"))
    ]


def test_applied_event_is_signed_and_carries_the_transaction(
    session, session_factory, decide, receiver, policy, webhook_secret
):
    transaction_id = decide(30, callback_url=receiver.url("cb"))
    [claimed] = claim(session_factory)

    assert deliver_message(session_factory, claimed, policy) == "delivered"

    [request] = receiver.to("cb")
    payload = Webhook(webhook_secret).verify(request.body, request.headers)
    session.expire_all()
    expected = json.loads(transaction_json(session, TEST_CLIENT, transaction_id))
    assert payload == {"type": "transaction.applied", "timestamp": expected["decided_at"], "data": expected}
    assert request.headers["webhook-id"] == f"msg_{claimed.message_id.hex}"
    assert message_state(session) == [("delivered", 1, False)]
    assert attempts(session) == [(200, None)]


def test_rejected_event_names_the_failure(session, session_factory, decide, receiver, policy, webhook_secret):
    decide(1_000, callback_url=receiver.url("cb"))
    [claimed] = claim(session_factory)
    deliver_message(session_factory, claimed, policy)

    payload = Webhook(webhook_secret).verify(receiver.to("cb")[0].body, receiver.to("cb")[0].headers)
    assert payload["type"] == "transaction.rejected"
    assert payload["data"]["status"] == "rejected"
    assert payload["data"]["failure"]["code"] == "insufficient_funds"


def test_failures_are_retried_with_one_webhook_id_until_the_schedule_is_spent(
    session, session_factory, decide, receiver, policy
):
    decide(10, callback_url=receiver.url("down"))
    receiver.default = 503
    outcomes = []
    for _ in range(len(policy.schedule) + 1):
        [claimed] = claim(session_factory)
        outcomes.append(deliver_message(session_factory, claimed, policy))

    assert outcomes == ["retry", "retry", "failed"]
    assert len({r.headers["webhook-id"] for r in receiver.to("down")}) == 1
    assert len(receiver.to("down")) == 3
    assert message_state(session) == [("failed", 3, False)]
    assert claim(session_factory) == []


def test_a_client_error_fails_at_once(session, session_factory, decide, receiver, policy):
    decide(10, callback_url=receiver.url("bad"))
    receiver.scripts["bad"] = [400]
    [claimed] = claim(session_factory)
    assert deliver_message(session_factory, claimed, policy) == "failed"
    assert attempts(session) == [(400, None)]


def test_retry_after_is_honoured(session, session_factory, decide, receiver, policy):
    decide(10, callback_url=receiver.url("busy"))
    receiver.scripts["busy"] = [(429, {"Retry-After": "3600"})]
    [claimed] = claim(session_factory)
    slow = DeliveryPolicy(**{**policy.__dict__, "schedule": [1.0, 7200.0]})
    assert deliver_message(session_factory, claimed, slow) == "retry"
    wait = session.execute(text("SELECT next_attempt_at - now() FROM webhook_messages")).scalar_one()
    assert timedelta(minutes=59) < wait <= timedelta(hours=1)


def test_410_disables_the_endpoint_and_drops_its_pending_events(session, session_factory, decide, receiver, policy):
    endpoint = register_endpoint(session, TEST_CLIENT, receiver.url("gone"))
    session.commit()
    decide(10)
    decide(20)
    receiver.default = 410
    first, second = claim(session_factory)

    assert deliver_message(session_factory, first, policy) == "failed"
    assert deliver_message(session_factory, second, policy) == "skipped"
    assert len(receiver.to("gone")) == 1
    session.expire_all()
    assert (
        session.execute(text("SELECT status FROM webhook_endpoints WHERE id = :id"), {"id": endpoint.id}).scalar_one()
        == "disabled"
    )
    assert [state for state, *_ in message_state(session)] == ["failed", "failed"]
    decide(30)
    assert claim(session_factory) == []


def test_private_address_is_refused_at_delivery_too(session, session_factory, decide, receiver, policy):
    # Accepted while private addresses were allowed, delivered by a worker where they are not:
    # the check at delivery is what stops a name that resolves differently the second time.
    decide(10, callback_url=receiver.url("inside"))
    [claimed] = claim(session_factory)
    strict = dataclasses.replace(policy, transport=HttpTransport(timeout=5, allow_private=False))

    assert deliver_message(session_factory, claimed, strict) == "failed"
    assert receiver.to("inside") == []
    [(status, error)] = attempts(session)
    assert status is None
    assert "non-public" in error


def test_a_row_is_claimed_once_until_its_lease_runs_out(session, session_factory, decide, receiver, policy):
    decide(10, callback_url=receiver.url("cb"))
    [first] = claim(session_factory, lease=0.2)
    assert claim(session_factory) == []
    session.execute(text("SELECT pg_sleep(0.3)"))
    [second] = claim(session_factory)
    assert second.message_id == first.message_id
    assert second.lease_id != first.lease_id


def test_only_the_latest_claim_sends(session, session_factory, decide, receiver, policy):
    decide(10, callback_url=receiver.url("cb"))
    message_id = session.execute(text("SELECT id FROM webhook_messages")).scalar_one()
    assert deliver_message(session_factory, Claim(message_id, uuid.uuid4()), policy) == "skipped"
    [expired] = claim(session_factory, lease=0)
    [current] = claim(session_factory)

    # A task left from a claim whose lease ran out (its worker was presumed dead) sends nothing.
    assert deliver_message(session_factory, expired, policy) == "skipped"
    assert deliver_message(session_factory, current, policy) == "delivered"
    # Nor does a duplicate of the task that settled the row (a redelivered message).
    assert deliver_message(session_factory, current, policy) == "skipped"
    assert len(receiver.to("cb")) == 1


def test_without_a_server_secret_callbacks_wait(session, session_factory, decide, receiver, policy):
    decide(10, callback_url=receiver.url("cb"))
    [claimed] = claim(session_factory)
    unsigned = DeliveryPolicy(**{**policy.__dict__, "server_secret": ""})
    assert deliver_message(session_factory, claimed, unsigned) == "retry"
    assert receiver.to("cb") == []
    assert "WEBHOOK_SECRET" in attempts(session)[0][1]
