"""Reads: wallets, transactions and statements, newest first, cursor-paginated by ``seq``."""

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from ledger.enums import USER_ID_PATTERN, TransactionStatus
from ledger.errors import TransactionNotFound, WalletNotFound
from ledger.models import Entry, Transaction, Wallet

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool


def get_wallet(session: Session, user_id: str) -> Wallet:
    # A user_id outside the rule names no wallet (the schema refuses it), and may hold what the
    # driver cannot even send (NUL): not found, without asking the database.
    if not re.match(USER_ID_PATTERN, user_id):
        raise WalletNotFound(user_id)
    wallet = session.scalar(select(Wallet).where(Wallet.user_id == user_id))
    if wallet is None:
        raise WalletNotFound(user_id)
    return wallet


def get_transaction(session: Session, transaction_id: uuid.UUID) -> Transaction:
    transaction = session.get(Transaction, transaction_id)
    if transaction is None:
        raise TransactionNotFound(transaction_id)
    return transaction


def transaction_exists(session: Session, transaction_id: uuid.UUID) -> bool:
    return session.scalar(select(Transaction.seq).where(Transaction.id == transaction_id)) is not None


def list_transactions(
    session: Session,
    *,
    user_id: str | None = None,
    type: str | None = None,
    status: str | None = None,
    limit: int = 20,
    starting_after: uuid.UUID | None = None,
) -> Page[Transaction]:
    """Transactions newest first; ``starting_after`` is the id of the last one already seen.

    For one wallet, the debit side and the credit side are read from their own indexes and
    merged, so a hot wallet's page costs two short index scans, not a scan of its history.
    """
    conditions = []
    if type is not None:
        conditions.append(Transaction.type == type)
    if status is not None:
        conditions.append(Transaction.status == status)
    if starting_after is not None:
        cursor = select(Transaction.seq).where(Transaction.id == starting_after).scalar_subquery()
        conditions.append(Transaction.seq < cursor)
    if user_id is None:
        sides = [select(Transaction.seq).where(*conditions)]
    else:
        wallet = get_wallet(session, user_id)
        sides = [
            select(Transaction.seq).where(column == wallet.id, *conditions)
            for column in (Transaction.debit_wallet_id, Transaction.credit_wallet_id)
        ]
    sides = [side.order_by(Transaction.seq.desc()).limit(limit + 1) for side in sides]
    seqs = union_all(*sides).subquery() if len(sides) > 1 else sides[0].subquery()
    query = (
        select(Transaction)
        .where(Transaction.seq.in_(select(seqs.c.seq)))
        .order_by(Transaction.seq.desc())
        .limit(limit + 1)
    )
    rows = list(session.scalars(query).unique())
    return Page(rows[:limit], has_more=len(rows) > limit)


def wallet_statement(
    session: Session, user_id: str, *, limit: int = 20, starting_after: int | None = None
) -> Page[Entry]:
    """A wallet's entries newest first, each with the balance it left; cursor is an entry id."""
    wallet = get_wallet(session, user_id)
    query = select(Entry).where(Entry.wallet_id == wallet.id)
    if starting_after is not None:
        query = query.where(Entry.id < starting_after)
    rows = list(session.scalars(query.order_by(Entry.id.desc()).limit(limit + 1)).unique())
    return Page(rows[:limit], has_more=len(rows) > limit)


def stale_partitions(session: Session, older_than: timedelta) -> list[int]:
    """Partitions holding a ``queued`` row older than ``older_than``: their wake-up was lost."""
    query = (
        select(Transaction.partition)
        .where(Transaction.status == TransactionStatus.QUEUED, Transaction.created_at < func.now() - older_than)
        .distinct()
        .order_by(Transaction.partition)
    )
    return list(session.scalars(query))
