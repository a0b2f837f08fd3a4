"""The accept side records requests as queued rows and settles idempotency keys."""

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.accept import TransactionRequest as Req
from ledger.accept import create_wallet, record_transactions
from ledger.errors import IdempotencyConflict, InvalidRequest, WalletExists, WalletNotFound
from ledger.partitions import partition_of
from tests.conftest import TEST_CLIENT


def _count(session: Session) -> int:
    return session.execute(text("SELECT count(*) FROM transactions WHERE type <> 'opening'")).scalar_one()


def test_request_is_queued_in_the_payers_partition(session: Session, make_wallet) -> None:
    alice, bob = make_wallet("alice", 100), make_wallet("bob")
    [accepted] = record_transactions(session, TEST_CLIENT, [Req("transfer", alice, bob, 10)], partitions=16)
    assert accepted.status == "queued"
    assert accepted.partition == partition_of("alice", 16)
    assert accepted.representation["currency"] == "USD"
    assert not accepted.replayed


def test_same_key_same_body_replays(session: Session, make_wallet) -> None:
    alice, bob = make_wallet("alice", 100), make_wallet("bob")
    request = Req("transfer", alice, bob, 10, idempotency_key="k1")
    [first] = record_transactions(session, TEST_CLIENT, [request], partitions=16)
    session.commit()
    [again] = record_transactions(session, TEST_CLIENT, [request], partitions=16)
    assert again.replayed and again.id == first.id
    assert _count(session) == 1


def test_same_key_other_body_conflicts(session: Session, make_wallet) -> None:
    alice, bob = make_wallet("alice", 100), make_wallet("bob")
    record_transactions(session, TEST_CLIENT, [Req("transfer", alice, bob, 10, idempotency_key="k1")], partitions=16)
    session.commit()
    with pytest.raises(IdempotencyConflict):
        record_transactions(
            session, TEST_CLIENT, [Req("transfer", alice, bob, 11, idempotency_key="k1")], partitions=16
        )


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (Req("transfer", "alice", "nobody", 1), WalletNotFound),
        (Req("transfer", "alice", "world", 1), WalletNotFound),
        (Req("transfer", "alice", "alice", 1), InvalidRequest),
        (Req("deposit", "alice", "deposit-provider-master", 1), InvalidRequest),
        (Req("transfer", "alice", "withdraw-provider-master", 1), InvalidRequest),
    ],
)
def test_refused_requests_write_nothing(session: Session, make_wallet, request_: Req, error: type) -> None:
    make_wallet("alice", 100)
    with pytest.raises(error):
        record_transactions(session, TEST_CLIENT, [request_], partitions=16)
    session.rollback()
    assert _count(session) == 0


def test_duplicate_wallet_is_refused(session: Session, make_wallet) -> None:
    make_wallet("alice")
    with pytest.raises(WalletExists):
        create_wallet(session, TEST_CLIENT, "alice", "user")
