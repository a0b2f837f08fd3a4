"""The accept side: record requests as ``queued`` transactions. Balances are never touched here.

A request is accepted once its row is committed; applying it is the posting engine's job. The
caller owns the database transaction and commits it (one commit per API call, however many
requests it carries).
"""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from ledger.enums import ROLES, AccountType, TransactionType
from ledger.errors import IdempotencyConflict, InvalidRequest, WalletExists, WalletNotFound
from ledger.models import Transaction, Wallet
from ledger.partitions import partition_of

# One fixed client until authentication exists; idempotency keys are unique per client.
DEFAULT_CLIENT = "default"


# The whole batch travels as one JSON parameter: one statement to plan whatever the batch size,
# and ORDER BY n (the item's index) keeps request order, which seq and so the ledger follow.
INSERT_QUEUED = text(
    """
    INSERT INTO transactions (id, type, amount, currency, debit_wallet_id, credit_wallet_id, partition,
                              client_id, idempotency_key, request_hash, metadata, callback_url)
    SELECT id, type, amount, currency, debit_wallet_id, credit_wallet_id, partition,
           client_id, idempotency_key, request_hash, metadata, callback_url
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        id uuid, type text, amount bigint, currency text, debit_wallet_id bigint, credit_wallet_id bigint,
        partition smallint, client_id text, idempotency_key text, request_hash text, metadata jsonb,
        callback_url text, n bigint)
    ORDER BY n
    ON CONFLICT (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
    """
)


@dataclass(frozen=True)
class TransactionRequest:
    type: TransactionType
    debit_user_id: str
    credit_user_id: str
    amount: int
    currency: str | None = None
    idempotency_key: str | None = None
    metadata: dict | None = None
    callback_url: str | None = None

    def fingerprint(self) -> str:
        """Hash of what the request asks for, so a replayed key can be told from a reused one."""
        body = asdict(self)
        del body["idempotency_key"]
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Accepted:
    transaction: Transaction
    replayed: bool


def create_wallet(session: Session, user_id: str, acnt_type: str, currency: str = "USD") -> Wallet:
    wallet = Wallet(user_id=user_id, acnt_type=acnt_type, currency=currency)
    try:
        with session.begin_nested():
            session.add(wallet)
            session.flush()
    except IntegrityError as exc:
        if "wallets_user_id_key" in str(exc.orig):
            raise WalletExists(user_id) from None
        raise
    session.refresh(wallet)
    return wallet


def record_transactions(
    session: Session, requests: list[TransactionRequest], partitions: int, client_id: str = DEFAULT_CLIENT
) -> list[Accepted]:
    """Insert every request as ``queued`` in one statement; return them in request order.

    A request whose idempotency key was seen before with the same fingerprint comes back as the
    original transaction (``replayed``); with a different fingerprint it raises. Concurrent
    duplicates are settled by the unique index: the loser's insert waits for the winner's commit
    and then finds its row.
    """
    keys = [r.idempotency_key for r in requests if r.idempotency_key is not None]
    if len(keys) != len(set(keys)):
        raise InvalidRequest("duplicate_idempotency_key", "an Idempotency-Key appears twice in one batch")
    wallets = _wallets_for(session, requests)
    rows = [_row(request, wallets, partitions, client_id) for request in requests]
    numbered = json.dumps([{**row, "n": n} for n, row in enumerate(rows)], default=str)
    inserted = set(session.execute(INSERT_QUEUED, {"rows": numbered}).scalars())
    replays = _replays(session, requests, rows, inserted, client_id)
    ids = [replays.get(row["id"], row["id"]) for row in rows]
    # The wallets are already loaded: attach them rather than join them. Attached, not left to the
    # identity map, which holds objects weakly: once this function returns, a lazy load would cost
    # one query per transaction.
    query = select(Transaction).where(Transaction.id.in_(ids))
    query = query.options(lazyload(Transaction.debit_wallet), lazyload(Transaction.credit_wallet))
    by_id = {t.id: t for t in session.scalars(query)}
    wallets_by_id = {w.id: w for w in wallets.values()}
    for t in by_id.values():
        set_committed_value(t, "debit_wallet", wallets_by_id[t.debit_wallet_id])
        set_committed_value(t, "credit_wallet", wallets_by_id[t.credit_wallet_id])
    return [Accepted(by_id[i], replayed=i != row["id"]) for i, row in zip(ids, rows, strict=True)]


def _wallets_for(session: Session, requests: list[TransactionRequest]) -> dict[str, Wallet]:
    user_ids = {r.debit_user_id for r in requests} | {r.credit_user_id for r in requests}
    found = session.scalars(select(Wallet).where(Wallet.user_id.in_(user_ids))).all()
    wallets = {w.user_id: w for w in found if w.acnt_type != AccountType.SYSTEM}
    for request in requests:
        for user_id in (request.debit_user_id, request.credit_user_id):
            if user_id not in wallets:
                raise WalletNotFound(user_id)
    return wallets


def _row(request: TransactionRequest, wallets: dict[str, Wallet], partitions: int, client_id: str) -> dict:
    if request.debit_user_id == request.credit_user_id:
        raise InvalidRequest("same_wallet", "a transaction needs two different wallets")
    debit, credit = wallets[request.debit_user_id], wallets[request.credit_user_id]
    debit_role, credit_role = ROLES[request.type]
    for wallet, role in ((debit, debit_role), (credit, credit_role)):
        if wallet.acnt_type != role:
            raise InvalidRequest(f"not_a_{role}_wallet", f"{request.type}: {wallet.user_id!r} is not a {role} wallet")
    customer = credit if request.type == TransactionType.DEPOSIT else debit
    return {
        "id": uuid.uuid4(),
        "type": request.type,
        "amount": request.amount,
        "currency": request.currency or customer.currency,
        "debit_wallet_id": debit.id,
        "credit_wallet_id": credit.id,
        "partition": partition_of(debit.user_id, partitions),
        "client_id": client_id,
        "idempotency_key": request.idempotency_key,
        "request_hash": request.fingerprint() if request.idempotency_key is not None else None,
        "metadata": request.metadata,
        "callback_url": request.callback_url,
    }


def _replays(
    session: Session, requests: list[TransactionRequest], rows: list[dict], inserted: set, client_id: str
) -> dict[uuid.UUID, uuid.UUID]:
    """Map each row that lost an idempotency race to the transaction that holds its key."""
    lost = {row["idempotency_key"]: row for row in rows if row["id"] not in inserted}
    if not lost:
        return {}
    existing = session.execute(
        select(Transaction.idempotency_key, Transaction.id, Transaction.request_hash).where(
            Transaction.client_id == client_id, Transaction.idempotency_key.in_(lost)
        )
    ).all()
    replays = {}
    for key, transaction_id, request_hash in existing:
        if request_hash != lost[key]["request_hash"]:
            raise IdempotencyConflict(key)
        replays[lost[key]["id"]] = transaction_id
    return replays
