"""Opening balances: money enters the ledger only as an applied transaction from ``world``."""

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ledger.models import Transaction, Wallet
from ledger.queries import get_wallet

WORLD = "world"


def open_balance(session: Session, user_id: str, amount: int) -> Transaction:
    """Post ``amount`` from ``world`` to the wallet, entries and balances in the caller's transaction."""
    wallet = get_wallet(session, user_id)
    world = get_wallet(session, WORLD)
    # Same locks, in the same order, as the posting engine: ascending wallet id, NO KEY UPDATE.
    session.execute(
        text("SELECT id FROM wallets WHERE id IN (:a, :b) ORDER BY id FOR NO KEY UPDATE"),
        {"a": world.id, "b": wallet.id},
    )
    session.refresh(world)
    session.refresh(wallet)
    transaction = Transaction(
        type="opening",
        status="applied",
        amount=amount,
        currency=wallet.currency,
        debit_wallet_id=world.id,
        credit_wallet_id=wallet.id,
        partition=0,
        decided_at=func.now(),
    )
    session.add(transaction)
    session.flush()
    world.balance -= amount
    wallet.balance += amount
    session.execute(
        text(
            "INSERT INTO entries (transaction_id, wallet_id, amount, balance_after)"
            " VALUES (:t, :world, :debit, :world_after), (:t, :wallet, :credit, :wallet_after)"
        ),
        {
            "t": transaction.id,
            "world": world.id,
            "debit": -amount,
            "world_after": world.balance,
            "wallet": wallet.id,
            "credit": amount,
            "wallet_after": wallet.balance,
        },
    )
    session.flush()
    return transaction


def ensure_wallet(session: Session, user_id: str, acnt_type: str) -> tuple[Wallet, bool]:
    wallet = session.scalar(select(Wallet).where(Wallet.user_id == user_id))
    if wallet is not None:
        return wallet, False
    wallet = Wallet(user_id=user_id, acnt_type=acnt_type)
    session.add(wallet)
    session.flush()
    return wallet, True
