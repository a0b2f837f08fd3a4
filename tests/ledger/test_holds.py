"""Holds and reversals through the engine: every path, each ending with the books balanced."""

import json
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.accept import FollowUp, record_follow_up
from ledger.accept import TransactionRequest as Req
from ledger.enums import TransactionType
from ledger.errors import InvalidRequest, StateConflict
from ledger.holds import expire_due_holds
from ledger.invariants import verify
from ledger.opening import open_balance
from ledger.queries import transaction_json, wallet_json
from tests.conftest import TEST_CLIENT
from tests.ledger.conftest import balance, statuses

CAPTURE, VOID, REVERSAL = TransactionType.CAPTURE, TransactionType.VOID, TransactionType.REVERSAL


@pytest.fixture
def follow(session: Session) -> Callable[..., str]:
    """``follow(kind, original_id, amount=None)``: queue a capture, void or reversal and commit."""

    def submit(kind: TransactionType, original_id: str, amount: int | None = None, **options) -> str:
        accepted = record_follow_up(session, TEST_CLIENT, FollowUp(kind, original_id, amount, **options), 1)
        session.commit()
        return accepted.id

    return submit


@pytest.fixture(autouse=True)
def books_balance(session: Session):
    yield
    report = verify(session)
    assert report.ok, report.problems


def hold(payer: str, payee: str, amount: int, expires_in: int = 3600) -> Req:
    return Req("transfer", payer, payee, amount, hold=True, expires_in=expires_in)


def wallet(session: Session, user_id: str) -> dict:
    return json.loads(wallet_json(session, TEST_CLIENT, user_id))


def transaction(session: Session, transaction_id: str) -> dict:
    return json.loads(transaction_json(session, TEST_CLIENT, transaction_id))


def holding(session: Session) -> int:
    return session.execute(text("SELECT balance FROM wallets WHERE user_id = 'holding:USD'")).scalar_one()


def test_a_hold_reserves_and_a_full_capture_pays(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30))
    drain()
    assert statuses(session, [held]) == [("held", None)]
    assert (wallet(session, "alice")["balance"], wallet(session, "alice")["held"]) == (70, 30)
    assert wallet(session, "alice")["available"] == 70
    assert (balance(session, "bob"), holding(session)) == (0, 30)

    capture = follow(CAPTURE, held)
    drain()
    assert statuses(session, [held, capture]) == [("captured", None), ("applied", None)]
    assert (balance(session, "alice"), balance(session, "bob"), holding(session)) == (70, 30, 0)
    assert wallet(session, "alice")["held"] == 0
    assert transaction(session, held)["settled_by"]["id"] == str(capture)
    assert transaction(session, capture)["original_id"] == str(held)


def test_a_partial_capture_gives_the_rest_back(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30))
    capture = follow(CAPTURE, held, 12)
    drain()
    assert statuses(session, [held, capture]) == [("captured", None), ("applied", None)]
    assert (balance(session, "alice"), balance(session, "bob"), holding(session)) == (88, 12, 0)
    assert transaction(session, held)["settled_by"]["amount"] == 12


def test_a_void_gives_it_all_back(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30))
    drain()
    void = follow(VOID, held)
    drain()
    assert statuses(session, [held, void]) == [("voided", None), ("applied", None)]
    assert (balance(session, "alice"), balance(session, "bob"), holding(session)) == (100, 0, 0)


def test_a_hold_nobody_settles_expires(session, make_wallet, queue, drain) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30, expires_in=1))
    drain()
    assert expire_due_holds(session) == []
    session.commit()
    time.sleep(1.1)
    assert expire_due_holds(session) == [0]
    session.commit()
    # Found again before its expiry is applied: no second expiry.
    assert expire_due_holds(session) == []
    session.commit()
    drain()
    assert statuses(session, [held]) == [("expired", None)]
    expiries = session.execute(text("SELECT status FROM transactions WHERE type = 'expiry'")).scalars().all()
    assert expiries == ["applied"]
    assert (balance(session, "alice"), holding(session)) == (100, 0)


def test_a_capture_after_a_void_is_rejected(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30))
    void = follow(VOID, held)
    capture = follow(CAPTURE, held)
    drain()
    assert statuses(session, [held, void, capture]) == [
        ("voided", None),
        ("applied", None),
        ("rejected", "hold_not_pending"),
    ]
    assert (balance(session, "alice"), balance(session, "bob")) == (100, 0)


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_two_captures_racing_one_wins(session, make_wallet, queue, drain, follow, batch_size) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30))
    first, second = follow(CAPTURE, held, 10), follow(CAPTURE, held, 30)
    drain(batch_size=batch_size)
    assert statuses(session, [first, second]) == [("applied", None), ("rejected", "hold_not_pending")]
    assert (balance(session, "alice"), balance(session, "bob")) == (90, 10)


def test_a_capture_sent_before_its_hold_is_applied_waits_for_it(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30))
    capture = follow(CAPTURE, held)
    assert statuses(session, [held, capture]) == [("queued", None), ("queued", None)]
    drain()
    assert statuses(session, [held, capture]) == [("captured", None), ("applied", None)]


def test_a_hold_the_payer_cannot_afford_is_rejected_and_cannot_be_captured(
    session, make_wallet, queue, drain, follow
) -> None:
    make_wallet("alice", 10)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30))
    capture = follow(CAPTURE, held)
    drain()
    assert statuses(session, [held, capture]) == [
        ("rejected", "insufficient_funds"),
        ("rejected", "hold_not_pending"),
    ]
    assert (balance(session, "alice"), holding(session)) == (10, 0)


def test_only_a_hold_is_captured_and_never_for_more(session, make_wallet, queue, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [plain] = queue(Req("transfer", "alice", "bob", 5))
    [held] = queue(hold("alice", "bob", 30))
    with pytest.raises(StateConflict) as refused:
        follow(CAPTURE, plain)
    assert refused.value.code == "not_a_hold"
    session.rollback()
    with pytest.raises(InvalidRequest) as refused:
        follow(CAPTURE, held, 31)
    assert refused.value.code == "amount_exceeds_hold"
    session.rollback()


def test_a_full_reversal_moves_it_all_back(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [paid] = queue(Req("transfer", "alice", "bob", 40))
    drain()
    reversal = follow(REVERSAL, paid)
    drain()
    assert statuses(session, [reversal]) == [("applied", None)]
    assert (balance(session, "alice"), balance(session, "bob")) == (100, 0)
    original = transaction(session, paid)
    assert (original["reversed_amount"], original["reversals"]) == (40, [str(reversal)])
    assert transaction(session, reversal)["from_user_id"] == "bob"


def test_partial_reversals_up_to_the_original_and_not_one_more(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [paid] = queue(Req("transfer", "alice", "bob", 40))
    drain()
    reversals = [follow(REVERSAL, paid, amount) for amount in (10, 25, 5)]
    drain()
    assert statuses(session, reversals) == [("applied", None)] * 3
    assert transaction(session, paid)["reversed_amount"] == 40
    with pytest.raises(StateConflict) as refused:
        follow(REVERSAL, paid, 1)
    assert refused.value.code == "reversal_exceeds_original"
    session.rollback()
    assert (balance(session, "alice"), balance(session, "bob")) == (100, 0)


def test_two_reversals_racing_for_the_last_cents_one_wins(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [paid] = queue(Req("transfer", "alice", "bob", 40))
    drain()
    first, second = follow(REVERSAL, paid, 30), follow(REVERSAL, paid, 30)
    drain()
    assert statuses(session, [first, second]) == [("applied", None), ("rejected", "reversal_exceeds_original")]
    assert transaction(session, paid)["reversed_amount"] == 30


def test_a_reversal_the_payee_cannot_afford_is_rejected(session, make_wallet, queue, drain, follow) -> None:
    for user_id, amount in (("alice", 100), ("bob", 0), ("carol", 0)):
        make_wallet(user_id, amount)
    [paid] = queue(Req("transfer", "alice", "bob", 40))
    [spent] = queue(Req("transfer", "bob", "carol", 35))
    drain()
    reversal = follow(REVERSAL, paid)
    drain()
    assert statuses(session, [spent, reversal]) == [("applied", None), ("rejected", "insufficient_funds")]
    assert transaction(session, paid)["reversed_amount"] == 0


def test_only_an_applied_movement_is_reversed(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 10)
    make_wallet("bob")
    [queued] = queue(Req("transfer", "alice", "bob", 5))
    with pytest.raises(StateConflict) as refused:
        follow(REVERSAL, queued)
    assert refused.value.code == "transaction_not_applied"
    session.rollback()
    [rejected] = queue(Req("transfer", "alice", "bob", 500))
    drain()
    reversal = follow(REVERSAL, queued)
    drain()
    for original, code in ((rejected, "transaction_not_applied"), (reversal, "not_reversible")):
        with pytest.raises(StateConflict) as refused:
            follow(REVERSAL, original)
        assert refused.value.code == code
        session.rollback()


def test_a_capture_can_be_reversed_to_the_holds_payer(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30))
    capture = follow(CAPTURE, held, 20)
    drain()
    reversal = follow(REVERSAL, capture, 5)
    drain()
    assert statuses(session, [reversal]) == [("applied", None)]
    assert (balance(session, "alice"), balance(session, "bob")) == (85, 15)


def test_a_replayed_key_answers_the_first_follow_up(session, make_wallet, queue, drain, follow) -> None:
    make_wallet("alice", 100)
    make_wallet("bob")
    [held] = queue(hold("alice", "bob", 30))
    first = follow(CAPTURE, held, 10, idempotency_key="cap-1")
    drain()
    again = record_follow_up(session, TEST_CLIENT, FollowUp(CAPTURE, held, 10, idempotency_key="cap-1"), 1)
    assert again.replayed and again.id == first


def test_wallets_inserted_by_hand_bring_their_currencys_holding_account(session, queue, drain) -> None:
    def holding_accounts(currency: str) -> list[tuple[str, int]]:
        return session.execute(
            text("SELECT client_id, balance FROM wallets WHERE user_id = :u AND acnt_type = 'holding'"),
            {"u": f"holding:{currency}"},
        ).all()

    assert holding_accounts("CHF") == []
    # One statement, two wallets, one new currency: not through ledger.accept, as a bulk load would.
    session.execute(
        text(
            "INSERT INTO wallets (client_id, user_id, acnt_type, currency)"
            " VALUES (:c, 'heidi', 'user', 'CHF'), (:c, 'ivan', 'user', 'CHF')"
        ),
        {"c": TEST_CLIENT},
    )
    open_balance(session, TEST_CLIENT, "heidi", 100)
    session.commit()
    assert holding_accounts("CHF") == [("platform", 0)]

    [held] = queue(Req("transfer", "heidi", "ivan", 40, currency="CHF", hold=True, expires_in=3600))
    drain()
    assert statuses(session, [held]) == [("held", None)]
    assert holding_accounts("CHF") == [("platform", 40)]
