"""The posting engine: order inside a partition, mixed outcomes, and exactly-once application."""

from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.accept import TransactionRequest as Req
from ledger.invariants import verify
from ledger.posting import apply_batch
from tests.ledger.conftest import balance, statuses


def test_mixed_batch(session: Session, make_wallet, queue, drain) -> None:
    alice, bob = make_wallet("alice", 1_000), make_wallet("bob", 0)
    frozen = make_wallet("frozen", 500, status="suspended")
    euro = make_wallet("euro", 0, currency="EUR")
    ids = queue(
        Req("transfer", alice, bob, 300),
        Req("transfer", alice, bob, 5_000),
        Req("transfer", frozen, bob, 100),
        Req("transfer", alice, euro, 100),
        Req("deposit", "deposit-provider-master", bob, 50),
        Req("withdraw", bob, "withdraw-provider-master", 200),
    )
    result = drain()
    assert statuses(session, ids) == [
        ("applied", None),
        ("rejected", "insufficient_funds"),
        ("rejected", "wallet_inactive"),
        ("rejected", "currency_mismatch"),
        ("applied", None),
        ("applied", None),
    ]
    assert (balance(session, alice), balance(session, bob), balance(session, frozen)) == (700, 150, 500)
    assert balance(session, "withdraw-provider-master") == 200
    assert len(result.applied) == 3 and len(result.rejected) == 3
    assert verify(session).ok


def test_earlier_credit_in_same_batch_funds_later_debit(session: Session, make_wallet, queue, drain) -> None:
    alice, bob = make_wallet("alice", 0), make_wallet("bob", 0)
    ids = queue(Req("deposit", "deposit-provider-master", alice, 100), Req("transfer", alice, bob, 100))
    drain()
    assert statuses(session, ids) == [("applied", None), ("applied", None)]
    assert (balance(session, alice), balance(session, bob)) == (0, 100)


def test_earlier_debit_in_same_batch_uses_the_money(session: Session, make_wallet, queue, drain) -> None:
    alice, bob = make_wallet("alice", 100), make_wallet("bob", 0)
    ids = queue(Req("transfer", alice, bob, 80), Req("transfer", alice, bob, 30))
    drain()
    assert statuses(session, ids) == [("applied", None), ("rejected", "insufficient_funds")]
    assert balance(session, alice) == 20


def test_order_holds_across_small_batches(session: Session, make_wallet, queue, drain) -> None:
    alice, bob = make_wallet("alice", 0), make_wallet("bob", 0)
    requests = [Req("deposit", "deposit-provider-master", alice, 10)] * 5 + [Req("transfer", alice, bob, 10)] * 6
    ids = queue(*requests)
    result = drain(batch_size=2)
    assert result.batches == 6
    assert [s for s, _ in statuses(session, ids)] == ["applied"] * 10 + ["rejected"]


def test_entries_carry_balance_after(session: Session, make_wallet, queue, drain) -> None:
    alice, bob = make_wallet("alice", 100), make_wallet("bob", 0)
    queue(Req("transfer", alice, bob, 30), Req("transfer", alice, bob, 20))
    drain()
    rows = session.execute(
        text(
            "SELECT w.user_id, e.amount, e.balance_after FROM entries e JOIN wallets w ON w.id = e.wallet_id"
            " JOIN transactions t ON t.id = e.transaction_id WHERE t.type = 'transfer' ORDER BY e.id"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("alice", -30, 70),
        ("bob", 30, 30),
        ("alice", -20, 50),
        ("bob", 20, 50),
    ]


def test_draining_again_changes_nothing(session: Session, make_wallet, queue, drain) -> None:
    alice, bob = make_wallet("alice", 100), make_wallet("bob", 0)
    queue(Req("transfer", alice, bob, 40))
    first = drain()
    second = drain()
    assert len(first.applied) == 1
    assert second.applied == [] and second.rejected == []
    assert (balance(session, alice), balance(session, bob)) == (60, 40)


def test_applied_rows_are_never_reapplied(session: Session, make_wallet, queue, drain) -> None:
    """Even a forged 'redelivery' of a decided row cannot move money: only queued rows are read."""
    alice, bob = make_wallet("alice", 100), make_wallet("bob", 0)
    (transaction_id,) = queue(Req("transfer", alice, bob, 40))
    drain()
    with session.begin():
        result = apply_batch(session, [0], 1000)
    assert result.decisions == []
    entries = session.execute(
        text("SELECT count(*) FROM entries WHERE transaction_id = :t"), {"t": transaction_id}
    ).scalar_one()
    assert entries == 2


def test_tampered_balance_is_caught_by_verify(session: Session, make_wallet) -> None:
    alice = make_wallet("alice", 100)
    assert verify(session).ok
    session.rollback()
    session.execute(text("UPDATE wallets SET balance = balance + 1 WHERE user_id = :u"), {"u": alice})
    session.commit()
    report = verify(session)
    assert not report.ok
    assert any("alice" in problem for problem in report.problems)


def test_balanced_entries_on_the_wrong_wallet_are_caught_by_verify(session: Session, make_wallet) -> None:
    alice, bob, carol = make_wallet("alice", 100), make_wallet("bob"), make_wallet("carol")
    ids = dict(session.execute(text("SELECT user_id, id FROM wallets")).all())
    session.execute(
        text(
            "WITH t AS (INSERT INTO transactions (client_id, type, status, amount, currency, debit_wallet_id,"
            " credit_wallet_id, partition, decided_at)"
            " VALUES ('tests', 'transfer', 'applied', 10, 'USD', :a, :b, 0, now())"
            " RETURNING id)"
            " INSERT INTO entries (transaction_id, wallet_id, amount, balance_after)"
            " SELECT id, :a, -10, 90 FROM t UNION ALL SELECT id, :c, 10, 10 FROM t"
        ),
        {"a": ids[alice], "b": ids[bob], "c": ids[carol]},
    )
    session.execute(text("UPDATE wallets SET balance = balance - 10 WHERE user_id = :u"), {"u": alice})
    session.execute(text("UPDATE wallets SET balance = balance + 10 WHERE user_id = :u"), {"u": carol})
    session.commit()
    report = verify(session)
    assert [p.split(":")[0] for p in report.problems] == ["entries differ from what their transaction moved"]
