"""Webhooks end to end: the API accepts, ledger workers decide, the webhooks worker and beat deliver.

Every process is real (two ledger workers, the webhooks worker with its thread pool, beat); the
receiver is a real HTTP server in this process. The retry schedule is compressed to 0.2 s steps
and beat polls every 0.5 s (see FAST_WEBHOOK_ENV).
"""

import time

import pytest
from sqlalchemy import Engine, text
from standardwebhooks import Webhook

from tests.fixtures.services import wait_until_no_queued


def transfer(client, amount: int, **extra) -> str:
    body = {"from_user_id": "alice", "to_user_id": "bob", "amount": amount, **extra}
    answer = client.post("/wallets/transfer", json=body)
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()["id"]


def settled(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT status, count(*) FROM webhook_messages GROUP BY status")).all())


def wait_until_settled(engine: Engine, count: int, status: str = "delivered", timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while settled(engine).get(status, 0) < count:
        if time.monotonic() >= deadline:
            pytest.fail(f"webhook messages {settled(engine)} after {timeout:g}s; wanted {count} {status}")
        time.sleep(0.1)


@pytest.fixture
def wallets(funded) -> None:
    funded("alice", 10_000)
    funded("bob")


def test_transfer_with_callback_gets_one_signed_applied_event(
    webhook_system, wallets, client, receiver, engine, webhook_secret
):
    transaction_id = transfer(client, 2_500, callback_url=receiver.url("cb"))

    wait_until_settled(engine, 1)
    [request] = receiver.to("cb")
    event = Webhook(webhook_secret).verify(request.body, request.headers)
    assert event["type"] == "transaction.applied"
    assert event["data"] == client.get(f"/transactions/{transaction_id}").get_json()
    assert event["data"]["status"] == "applied"
    assert event["timestamp"] == event["data"]["decided_at"]


def test_overdraw_gets_a_rejected_event_with_its_failure_code(
    webhook_system, wallets, client, receiver, engine, webhook_secret
):
    transaction_id = transfer(client, 1_000_000, callback_url=receiver.url("cb"))

    wait_until_settled(engine, 1)
    [request] = receiver.to("cb")
    event = Webhook(webhook_secret).verify(request.body, request.headers)
    assert event["type"] == "transaction.rejected"
    assert event["data"]["id"] == transaction_id
    assert event["data"]["failure"]["code"] == "insufficient_funds"


def test_failing_receiver_is_retried_with_one_webhook_id_and_every_attempt_logged(
    webhook_system, wallets, client, receiver, engine
):
    created = client.post("/webhooks", json={"url": receiver.url("flaky")}).get_json()
    receiver.scripts["flaky"] = [500, 500]
    transaction_id = transfer(client, 100)

    wait_until_settled(engine, 1)
    requests = receiver.to("flaky")
    assert [r.status for r in requests] == [500, 500, 200]
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    # Each attempt carries its own timestamp and signature, each valid with the endpoint's secret.
    for request in requests:
        Webhook(created["secret"]).verify(request.body, request.headers)

    log = client.get(f"/webhooks/{created['id']}/deliveries").get_json()
    assert log["has_more"] is False
    attempts = list(reversed(log["deliveries"]))
    assert [a["response_status"] for a in attempts] == [500, 500, 200]
    assert {a["transaction_id"] for a in attempts} == {transaction_id}
    assert {a["webhook_id"] for a in attempts} == {requests[0].headers["webhook-id"]}
    assert {a["event_type"] for a in attempts} == {"transaction.applied"}
    assert [a["next_attempt_at"] is not None for a in attempts] == [True, True, False]
    assert all(a["latency_ms"] >= 0 for a in attempts)


@pytest.fixture
def long_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliveries to a silent receiver stay stuck for the whole test, not only WEBHOOK_TIMEOUT_SECONDS."""
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "120")


def test_a_receiver_that_never_answers_does_not_delay_money(
    long_timeout, webhook_system, wallets, client, receiver, engine
):
    receiver.hanging.add("silent")
    for _ in range(12):
        transfer(client, 1, callback_url=receiver.url("silent"))
    # Every thread of the webhooks worker is now stuck on the silent receiver.
    receiver.wait_for(lambda: receiver.waiting >= 8, "8 deliveries held open")

    later = [transfer(client, 10) for _ in range(20)]
    wait_until_no_queued(engine, timeout=60)

    statuses = {client.get(f"/transactions/{t}").get_json()["status"] for t in later}
    assert statuses == {"applied"}
    # ...and all the while, not one delivery to the silent receiver has finished.
    assert settled(engine) == {"pending": 12}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM webhook_attempts")).scalar_one() == 0


def test_endpoint_filtered_to_rejections_receives_only_rejections(
    webhook_system, wallets, client, receiver, engine, webhook_secret
):
    created = client.post(
        "/webhooks", json={"url": receiver.url("rejections"), "events": ["transaction.rejected"]}
    ).get_json()
    applied = [transfer(client, 100) for _ in range(3)]
    rejected = [transfer(client, 1_000_000) for _ in range(2)]
    wait_until_no_queued(engine, timeout=60)

    # Every event exists once its transaction is decided: two, and only two, to deliver.
    wait_until_settled(engine, 2)
    assert settled(engine) == {"delivered": 2}
    events = [Webhook(created["secret"]).verify(r.body, r.headers) for r in receiver.to("rejections")]
    assert sorted(e["data"]["id"] for e in events) == sorted(rejected)
    assert {e["type"] for e in events} == {"transaction.rejected"}
    assert not {e["data"]["id"] for e in events} & set(applied)


@pytest.fixture
def patient_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries every 2 s, ten times: events are still due, not failed, when the workers die."""
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", ",".join(["2"] * 10))


def test_every_worker_killed_with_deliveries_due_then_restarted_delivers_each_event(
    patient_retries, webhook_system, wallets, client, receiver, engine
):
    ledger_workers, webhooks_worker, beat = webhook_system
    receiver.default = 503
    receiver.hanging.add("stuck")
    retrying = [transfer(client, 10, callback_url=receiver.url("down")) for _ in range(6)]
    in_flight = [transfer(client, 10, callback_url=receiver.url("stuck")) for _ in range(3)]
    # Due: every "down" event has failed once and waits for its retry; "stuck" ones are mid-POST.
    receiver.wait_for(lambda: len({r.headers["webhook-id"] for r in receiver.to("down")}) == 6, "6 failed events")
    receiver.wait_for(lambda: receiver.waiting == 3, "3 deliveries held open")

    for index in range(len(ledger_workers.processes)):
        ledger_workers.kill(index)
    webhooks_worker.kill()
    beat.kill()
    # Accepted while nothing runs: decided, and their events written, only after the restart.
    accepted_while_down = [transfer(client, 10, callback_url=receiver.url("later")) for _ in range(3)]
    receiver.hanging.clear()
    receiver.default = 200
    receiver.release.set()

    ledger_workers.start()
    webhooks_worker.start()
    beat.start()

    wait_until_settled(engine, 12)
    assert settled(engine) == {"delivered": 12}
    with engine.connect() as conn:
        delivered = dict(
            conn.execute(
                text("SELECT transaction_id::text, 'msg_' || replace(id::text, '-', '') FROM webhook_messages")
            ).all()
        )
    assert set(delivered) == {*retrying, *in_flight, *accepted_while_down}
    answered = {r.headers["webhook-id"] for r in receiver.requests if r.status == 200}
    assert set(delivered.values()) <= answered
