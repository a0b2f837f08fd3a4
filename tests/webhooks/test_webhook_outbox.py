"""The outbox: events are written by the posting engine, in the batch that decides the transaction."""

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from ledger.accept import FollowUp, TransactionRequest, create_wallet, record_follow_up, record_transactions
from ledger.enums import TransactionType
from ledger.opening import open_balance
from ledger.posting import apply_batch, drain_partitions
from tests.conftest import TEST_CLIENT
from webhooks.endpoints import register_endpoint
from webhooks.outbox import record_events

CALLBACK = "http://127.0.0.1:8030/callback"


def accept_and_drain(session: Session, session_factory: sessionmaker, *requests: TransactionRequest):
    accepted = record_transactions(session, TEST_CLIENT, list(requests), partitions=1)
    session.commit()
    result = drain_partitions(session_factory, [0], batch_size=1000, max_seconds=60, on_decided=record_events)
    return [a.id for a in accepted], result


def messages(session: Session) -> list[tuple]:
    rows = session.execute(
        text(
            "SELECT transaction_id, event_type, endpoint_id, url, status FROM webhook_messages"
            " ORDER BY created_at, event_type, url"
        )
    )
    return [tuple(row) for row in rows]


def test_a_batch_without_subscribers_writes_no_event(session, session_factory, funded):
    funded("alice", 1_000)
    funded("bob")
    _, result = accept_and_drain(
        session, session_factory, *[TransactionRequest("transfer", "alice", "bob", 10) for _ in range(50)]
    )
    assert len(result.applied) == 50
    assert result.events == 0
    assert messages(session) == []


def test_callback_url_gets_one_event_per_decision_with_its_outcome(session, session_factory, funded):
    funded("alice", 100)
    funded("bob")
    (applied, rejected, silent), result = accept_and_drain(
        session,
        session_factory,
        TransactionRequest("transfer", "alice", "bob", 60, callback_url=CALLBACK),
        TransactionRequest("transfer", "alice", "bob", 60, callback_url=CALLBACK),  # overdraw
        TransactionRequest("transfer", "alice", "bob", 1),
    )
    assert result.events == 2
    assert sorted(messages(session)) == sorted(
        [
            (applied, "transaction.applied", None, CALLBACK, "pending"),
            (rejected, "transaction.rejected", None, CALLBACK, "pending"),
        ]
    )
    assert str(silent) in result.applied


def test_registered_endpoints_get_the_events_they_asked_for(session, session_factory, funded):
    funded("alice", 100)
    funded("bob")
    everything = register_endpoint(session, TEST_CLIENT, "http://127.0.0.1:8031/all")
    rejections = register_endpoint(session, TEST_CLIENT, "http://127.0.0.1:8031/rejected", ["transaction.rejected"])
    gone = register_endpoint(session, TEST_CLIENT, "http://127.0.0.1:8031/gone")
    session.execute(
        text("UPDATE webhook_endpoints SET status = 'disabled', disabled_at = now() WHERE id = :id"), {"id": gone.id}
    )
    session.commit()

    (applied, rejected), result = accept_and_drain(
        session,
        session_factory,
        TransactionRequest("transfer", "alice", "bob", 100),
        TransactionRequest("transfer", "alice", "bob", 100),
    )
    assert result.events == 3
    assert sorted(m[:3] for m in messages(session)) == sorted(
        [
            (applied, "transaction.applied", everything.id),
            (rejected, "transaction.rejected", everything.id),
            (rejected, "transaction.rejected", rejections.id),
        ]
    )


def test_an_event_exists_only_if_its_decision_was_committed(session, session_factory, funded):
    funded("alice", 100)
    funded("bob")
    record_transactions(
        session, TEST_CLIENT, [TransactionRequest("transfer", "alice", "bob", 5, callback_url=CALLBACK)], 1
    )
    session.commit()
    with session_factory() as other:
        other.begin()
        batch = apply_batch(other, [0], 1000, record_events)
        assert batch.events == 1
        other.rollback()
    assert messages(session) == []
    assert session.execute(text("SELECT status FROM transactions WHERE type = 'transfer'")).scalar_one() == "queued"


def test_an_endpoint_hears_only_of_its_own_clients_transactions(session, session_factory, funded):
    """Client other opens its own alice and bob; the tests' endpoint must hear nothing of them."""
    funded("alice", 100)
    funded("bob")
    session.execute(text("INSERT INTO clients (id) VALUES ('other')"))
    for user_id in ("alice", "bob"):
        create_wallet(session, "other", user_id, "user")
    open_balance(session, "other", "alice", 100)
    ours = register_endpoint(session, TEST_CLIENT, "http://127.0.0.1:8031/ours")
    theirs = register_endpoint(session, "other", "http://127.0.0.1:8031/theirs")
    record_transactions(session, "other", [TransactionRequest("transfer", "alice", "bob", 7)], partitions=1)
    (mine,), result = accept_and_drain(session, session_factory, TransactionRequest("transfer", "alice", "bob", 5))

    assert result.events == 2
    heard = {(endpoint, str(transaction)) for transaction, _, endpoint, _, _ in messages(session)}
    their_transaction = session.execute(
        text("SELECT id FROM transactions WHERE client_id = 'other' AND type = 'transfer'")
    ).scalar_one()
    assert heard == {(ours.id, str(mine)), (theirs.id, str(their_transaction))}


def test_holds_and_reversals_have_events_of_their_own(session, session_factory, funded):
    funded("alice", 100)
    funded("bob")
    everything = register_endpoint(session, TEST_CLIENT, "http://127.0.0.1:8031/all")
    session.commit()
    (held,), _ = accept_and_drain(
        session, session_factory, TransactionRequest("transfer", "alice", "bob", 30, hold=True, expires_in=60)
    )
    captured = record_follow_up(session, TEST_CLIENT, FollowUp(TransactionType.CAPTURE, held, 20), 1).id
    void_after = record_follow_up(session, TEST_CLIENT, FollowUp(TransactionType.VOID, held), 1).id
    session.commit()
    drain_partitions(session_factory, [0], batch_size=1000, max_seconds=60, on_decided=record_events)
    reversed_ = record_follow_up(session, TEST_CLIENT, FollowUp(TransactionType.REVERSAL, captured, 5), 1).id
    session.commit()
    drain_partitions(session_factory, [0], batch_size=1000, max_seconds=60, on_decided=record_events)

    assert sorted(m[:3] for m in messages(session)) == sorted(
        [
            (held, "transaction.held", everything.id),
            (captured, "transaction.captured", everything.id),
            (void_after, "transaction.rejected", everything.id),
            (reversed_, "transaction.reversed", everything.id),
        ]
    )
