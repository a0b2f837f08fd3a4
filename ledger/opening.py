"""Opening balances: money enters the ledger only as an applied transaction from ``world``."""

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ledger.enums import PLATFORM_CLIENT
from ledger.models import Transaction, Wallet
from ledger.queries import get_wallet

WORLD = "world"


def open_balance(session: Session, client_id: str, user_id: str, amount: int) -> Transaction:
    """Post ``amount`` from ``world`` to the client's wallet, entries and balances in the caller's
    transaction. The platform posts it: an opening is the platform's transaction."""
    wallet = get_wallet(session, client_id, user_id)
    world = get_wallet(session, PLATFORM_CLIENT, WORLD)
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
        client_id=PLATFORM_CLIENT,
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


def ensure_wallet(session: Session, client_id: str, user_id: str, acnt_type: str) -> tuple[Wallet, bool]:
    wallet = session.scalar(select(Wallet).where(Wallet.client_id == client_id, Wallet.user_id == user_id))
    if wallet is not None:
        return wallet, False
    wallet = Wallet(client_id=client_id, user_id=user_id, acnt_type=acnt_type)
    session.add(wallet)
    session.flush()
    return wallet, True
