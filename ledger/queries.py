"""Reads: wallets, transactions and statements, newest first, cursor-paginated by ``seq``.

Transactions and wallets come back as JSON text built by PostgreSQL (``transaction_json`` and
``wallet_json``, migration 0004): the one shape every route and webhook shows, which the API
sends as it is. Each read is a single statement, so it needs no transaction of its own.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from ledger.db import Prepared
from ledger.enums import USER_ID_PATTERN
from ledger.errors import TransactionNotFound, WalletNotFound
from ledger.models import Entry, Wallet

T = TypeVar("T")
Reader = Session | Connection

# Every read is a client's: its own transactions and its own wallets. Another client's (or the
# platform's) is not found, exactly as one that does not exist. A client's wallet only ever moves
# in that client's transactions, so a wallet's history needs no filter of its own.

# The two reads clients repeat most (a poll, a wallet), prepared once per connection.
TRANSACTION = Prepared(
    "ledger_transaction",
    ("uuid", "text"),
    """
    SELECT CAST(transaction_json(t, d.user_id, c.user_id) AS text)
    FROM transactions t
    JOIN wallets d ON d.id = t.debit_wallet_id
    JOIN wallets c ON c.id = t.credit_wallet_id
    WHERE t.id = $1 AND t.client_id = $2
    """,
)
# What the system sends a transaction's own client (webhook events): never a request's read.
OWN_TRANSACTION = text(
    """
    SELECT CAST(transaction_json(t, d.user_id, c.user_id) AS text)
    FROM transactions t
    JOIN wallets d ON d.id = t.debit_wallet_id
    JOIN wallets c ON c.id = t.credit_wallet_id
    WHERE t.id = :id
    """
)
WALLET = Prepared(
    "ledger_wallet",
    ("text", "text"),
    "SELECT CAST(wallet_json(w) AS text) FROM wallets w WHERE w.user_id = $1 AND w.client_id = $2",
)
WALLET_ID = text("SELECT id FROM wallets WHERE user_id = :user_id AND client_id = :client")
# GET /wallets/{user_id}: the wallet and its latest transactions (as PAGE below reads them), in
# one prepared statement.
WALLET_VIEW = Prepared(
    "ledger_wallet_view",
    ("text", "text", "int"),
    """
    SELECT CAST(wallet_json(w) AS text), ARRAY(
        SELECT CAST(transaction_json(t, d.user_id, c.user_id) AS text)
        FROM transactions t
        JOIN wallets d ON d.id = t.debit_wallet_id
        JOIN wallets c ON c.id = t.credit_wallet_id
        WHERE t.seq IN ((SELECT seq FROM transactions WHERE debit_wallet_id = w.id ORDER BY seq DESC LIMIT $3)
                        UNION ALL
                        (SELECT seq FROM transactions WHERE credit_wallet_id = w.id ORDER BY seq DESC LIMIT $3))
        ORDER BY t.seq DESC
        LIMIT $3)
    FROM wallets w WHERE w.user_id = $1 AND w.client_id = $2
    """,
)
# A page: the newest ``limit + 1`` seqs of each side (or of all), merged, then their JSON. For one
# wallet, the debit side and the credit side are read from their own indexes, so a hot wallet's
# page costs two short index scans, not a scan of its history.
PAGE = """
    SELECT CAST(transaction_json(t, d.user_id, c.user_id) AS text)
    FROM transactions t
    JOIN wallets d ON d.id = t.debit_wallet_id
    JOIN wallets c ON c.id = t.credit_wallet_id
    WHERE t.seq IN ({sides})
    ORDER BY t.seq DESC
    LIMIT :limit
"""
SIDE = "(SELECT seq FROM transactions WHERE {conditions} ORDER BY seq DESC LIMIT :limit)"
# One probe of the queue's (partition, seq) index per partition: the oldest row of each is its first.
OLDEST_QUEUED = Prepared(
    "ledger_oldest_queued",
    ("int",),
    """
    SELECT coalesce(extract(epoch FROM now() - min(q.created_at)), 0)::float8
    FROM generate_series(0, $1 - 1) AS p(partition)
    CROSS JOIN LATERAL (
        SELECT created_at FROM transaction_queue q WHERE q.partition = p.partition ORDER BY q.seq LIMIT 1) AS q
    """,
)
STALE = text(
    """
    SELECT DISTINCT partition FROM transaction_queue
    WHERE created_at < now() - make_interval(secs => :seconds)
    ORDER BY partition
    """
)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool


def valid_user_id(user_id: str) -> str:
    """A user_id outside the rule names no wallet (the schema refuses it), and may hold what the
    driver cannot even send (NUL): not found, without asking the database."""
    if not re.match(USER_ID_PATTERN, user_id):
        raise WalletNotFound(user_id)
    return user_id


def get_wallet(session: Session, client_id: str, user_id: str) -> Wallet:
    query = select(Wallet).where(Wallet.client_id == client_id, Wallet.user_id == valid_user_id(user_id))
    wallet = session.scalar(query)
    if wallet is None:
        raise WalletNotFound(user_id)
    return wallet


def wallet_json(db: Reader, client_id: str, user_id: str) -> str:
    """A client's wallet as JSON text."""
    body = WALLET.execute(db, valid_user_id(user_id), client_id).scalar()
    if body is None:
        raise WalletNotFound(user_id)
    return body


def wallet_view(db: Reader, client_id: str, user_id: str, limit: int) -> tuple[str, Page[str]]:
    """A client's wallet as JSON and the page of its latest ``limit`` transactions, in one round trip."""
    row = WALLET_VIEW.execute(db, valid_user_id(user_id), client_id, limit + 1).first()
    if row is None:
        raise WalletNotFound(user_id)
    wallet, transactions = row
    return wallet, Page(transactions[:limit], has_more=len(transactions) > limit)


def transaction_json(db: Reader, client_id: str, transaction_id: uuid.UUID) -> str:
    body = TRANSACTION.execute(db, str(transaction_id), client_id).scalar()
    if body is None:
        raise TransactionNotFound(transaction_id)
    return body


def event_transaction_json(db: Reader, transaction_id: uuid.UUID) -> str:
    """A transaction as its client sees it, for an event sent to that client; requests use transaction_json."""
    body = db.execute(OWN_TRANSACTION, {"id": transaction_id}).scalar()
    if body is None:
        raise TransactionNotFound(transaction_id)
    return body


def transaction_exists(db: Reader, client_id: str, transaction_id: uuid.UUID) -> bool:
    query = text("SELECT 1 FROM transactions WHERE id = :id AND client_id = :client")
    return db.execute(query, {"id": transaction_id, "client": client_id}).scalar() is not None


def transactions_json(
    db: Reader,
    client_id: str,
    *,
    user_id: str | None = None,
    type: str | None = None,
    status: str | None = None,
    limit: int = 20,
    starting_after: uuid.UUID | None = None,
) -> Page[str]:
    """Transactions newest first, as JSON texts; ``starting_after`` is the id of the last one seen."""
    params: dict = {"limit": limit + 1, "type": type, "status": status, "after": starting_after, "client": client_id}
    conditions = []
    if type is not None:
        conditions.append("type = :type")
    if status is not None:
        conditions.append("status = :status")
    if starting_after is not None:
        conditions.append("seq < (SELECT seq FROM transactions WHERE id = :after)")
    if user_id is None:
        sides = [SIDE.format(conditions=" AND ".join(["client_id = :client", *conditions]))]
    else:
        params["wallet"] = db.execute(WALLET_ID, {"user_id": valid_user_id(user_id), "client": client_id}).scalar()
        if params["wallet"] is None:
            raise WalletNotFound(user_id)
        sides = [
            SIDE.format(conditions=" AND ".join([f"{column} = :wallet", *conditions]))
            for column in ("debit_wallet_id", "credit_wallet_id")
        ]
    rows = list(db.execute(text(PAGE.format(sides=" UNION ALL ".join(sides))), params).scalars())
    return Page(rows[:limit], has_more=len(rows) > limit)


def wallet_statement(
    session: Session, client_id: str, user_id: str, *, limit: int = 20, starting_after: int | None = None
) -> Page[Entry]:
    """A client's wallet's entries newest first, each with the balance it left; cursor is an entry id."""
    wallet = get_wallet(session, client_id, user_id)
    query = select(Entry).where(Entry.wallet_id == wallet.id)
    if starting_after is not None:
        query = query.where(Entry.id < starting_after)
    rows = list(session.scalars(query.order_by(Entry.id.desc()).limit(limit + 1)).unique())
    return Page(rows[:limit], has_more=len(rows) > limit)


def stale_partitions(db: Reader, older_than: timedelta) -> list[int]:
    """Partitions holding a row queued for longer than ``older_than``: their wake-up was lost."""
    return list(db.execute(STALE, {"seconds": older_than.total_seconds()}).scalars())


def queue_age(db: Reader, partitions: int) -> float:
    """Seconds the oldest queued transaction has waited (0 when none waits): how far the ledger is behind."""
    return OLDEST_QUEUED.execute(db, partitions).scalar_one()
