"""The accept side: record requests as ``queued`` transactions. Balances are never touched here.

A request is accepted once its row is committed; applying it is the posting engine's job. An
accept is one round trip: a single request is one prepared INSERT that resolves both wallets,
checks their roles and answers the transaction's JSON; a batch (or a single request that INSERT
did not insert: an unknown wallet, a wallet in the wrong role, a replayed key) is one call of
the database function ``accept_transactions`` (migration 0004), which also names what is wrong.
The caller owns the database transaction: an autocommit connection makes the call its own
transaction, a session commits it.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, fields

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ledger.db import Prepared
from ledger.enums import ROLES, TransactionStatus, TransactionType
from ledger.errors import (
    IdempotencyConflict,
    InvalidRequest,
    StateConflict,
    TransactionNotFound,
    WalletExists,
    WalletNotFound,
)
from ledger.models import Wallet
from ledger.partitions import partition_of

ACCEPT = Prepared(
    "ledger_accept",
    ("text", "json"),
    "SELECT id, status, partition, replayed, body FROM accept_transactions($1, $2)",
)
# The common case, in one statement: nothing is inserted unless both wallets exist in their roles
# and the key is new, and then accept_transactions says why.
ACCEPT_ONE = Prepared(
    "ledger_accept_one",
    (
        "text",
        "text",
        "text",
        "text",
        "bigint",
        "text",
        "smallint",
        "text",
        "text",
        "jsonb",
        "text",
        "text",
        "text",
        "bool",
        "bool",
        "int",
    ),
    """
    WITH inserted AS (
        INSERT INTO transactions (type, amount, currency, debit_wallet_id, credit_wallet_id, partition,
                                  client_id, idempotency_key, request_hash, metadata, callback_url, hold, expires_at)
        SELECT $2, $5, coalesce($6, CASE WHEN $14 THEN c.currency ELSE d.currency END), d.id, c.id,
               $7, $1, $8, $9, $10, $11, $15, CASE WHEN $15 THEN now() + make_interval(secs => $16) END
        FROM wallets d
        JOIN wallets c ON c.user_id = $4 AND c.acnt_type = $13 AND c.client_id IN ($1, 'platform')
        WHERE d.user_id = $3 AND d.acnt_type = $12 AND d.client_id IN ($1, 'platform')
        ON CONFLICT (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING *)
    SELECT id, status, partition, false, CAST(transaction_json(ROW(i.*)::transactions, $3, $4) AS text)
    FROM inserted i
    """,
)


# Capture, void and reverse: migration 0007's accept_follow_up checks the original and queues.
FOLLOW_UP = Prepared(
    "ledger_follow_up",
    ("text", "text", "uuid", "bigint", "smallint", "text", "text", "text"),
    "SELECT id, status, partition, replayed, body FROM accept_follow_up($1, $2, $3, $4, $5, $6, $7, $8)",
)
# A reversal is applied in its payer's partition: the original's payee.
PAYEE = Prepared(
    "ledger_payee",
    ("uuid", "text"),
    "SELECT w.user_id FROM transactions t JOIN wallets w ON w.id = t.credit_wallet_id"
    " WHERE t.id = $1 AND t.client_id = $2",
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
    # A hold: reserve the amount now, capture or void it later; released after expires_in seconds.
    hold: bool = False
    expires_in: int | None = None

    def fingerprint(self) -> str:
        """Hash of what the request asks for, so a replayed key can be told from a reused one."""
        body = {name: getattr(self, name) for name in FINGERPRINTED}
        # Fields added since the first release count only when set: an old request keeps its hash.
        body = {name: value for name, value in body.items() if name not in LATER or value != LATER[name]}
        return _digest(body)


# Every field but the key itself.
FINGERPRINTED = tuple(f.name for f in fields(TransactionRequest) if f.name != "idempotency_key")
LATER = {"hold": False, "expires_in": None}


@dataclass(frozen=True)
class Accepted:
    """One accepted request: the transaction as JSON text (``body``), ready to be answered as is."""

    id: uuid.UUID
    status: TransactionStatus
    partition: int
    replayed: bool
    body: str

    @property
    def representation(self) -> dict:
        return json.loads(self.body)


def create_wallet(session: Session, client_id: str, user_id: str, acnt_type: str, currency: str = "USD") -> Wallet:
    """A new wallet of ``client_id``: its user_id must be new to the client, and not the platform's.

    The first wallet of a currency opens the platform's holding account of that currency too, where
    its holds will wait: the database does it (migration 0011), whoever inserts the wallet.
    """
    wallet = Wallet(client_id=client_id, user_id=user_id, acnt_type=acnt_type, currency=currency)
    try:
        with session.begin_nested():
            session.add(wallet)
            session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig.diag, "constraint_name", None) in {"wallets_client_user_id_key", "wallets_platform_names"}:
            raise WalletExists(user_id) from None
        raise
    session.refresh(wallet)
    return wallet


def record_transactions(
    db: Session | Connection, client_id: str, requests: list[TransactionRequest], partitions: int
) -> list[Accepted]:
    """Insert every request of ``client_id`` as ``queued`` in one call; return them in request order.

    Wallets are the client's own, or the platform's providers. A request whose idempotency key
    was seen before with the same fingerprint comes back as the original transaction
    (``replayed``); with a different fingerprint it raises. Concurrent duplicates are settled by
    the unique index: the loser's insert waits for the winner's commit and then finds its row.
    Nothing is inserted unless every request names existing wallets in their roles.
    """
    keys = [r.idempotency_key for r in requests if r.idempotency_key is not None]
    if len(keys) != len(set(keys)):
        raise InvalidRequest("duplicate_idempotency_key", "an Idempotency-Key appears twice in one batch")
    for request in requests:
        if request.debit_user_id == request.credit_user_id:
            raise InvalidRequest("same_wallet", "a transaction needs two different wallets")
        if request.hold and (request.expires_in is None or request.type == TransactionType.DEPOSIT):
            raise InvalidRequest("invalid_hold", "a hold is a withdraw or a transfer, with expires_in")
    items = [_item(n, request, partitions) for n, request in enumerate(requests)]
    rows = []
    if len(items) == 1:
        item = items[0]
        parameters = {**item, "metadata": None if item["metadata"] is None else json.dumps(item["metadata"])}
        rows = ACCEPT_ONE.execute(db, client_id, *(parameters[name] for name in SINGLE)).all()
    if not rows:
        try:
            rows = ACCEPT.execute(db, client_id, json.dumps(items)).all()
        except DBAPIError as exc:
            raise _domain_error(exc) from None
    return [Accepted(id_, TransactionStatus(status), *rest) for id_, status, *rest in rows]


@dataclass(frozen=True)
class FollowUp:
    """A capture, a void or a reversal of the transaction ``original_id``; ``amount`` None: all of it."""

    type: TransactionType
    original_id: uuid.UUID
    amount: int | None = None
    idempotency_key: str | None = None
    callback_url: str | None = None

    def fingerprint(self) -> str:
        return _digest(
            {"type": self.type, "original": str(self.original_id), "amount": self.amount, "url": self.callback_url}
        )


def record_follow_up(db: Session | Connection, client_id: str, request: FollowUp, partitions: int) -> Accepted:
    """Queue a capture or a void in the hold's partition, or a reversal in its payer's (the original's payee).

    The original is the client's own; a replayed key answers the first request's transaction.
    """
    partition = 0
    if request.type == TransactionType.REVERSAL:
        payee = PAYEE.execute(db, str(request.original_id), client_id).scalar()
        if payee is None:
            raise TransactionNotFound(request.original_id)
        partition = partition_of(payee, partitions)
    key = request.idempotency_key
    try:
        id_, status, *rest = FOLLOW_UP.execute(
            db,
            client_id,
            request.type,
            str(request.original_id),
            request.amount,
            partition,
            key,
            request.fingerprint() if key is not None else None,
            request.callback_url,
        ).one()
    except DBAPIError as exc:
        raise _domain_error(exc) from None
    return Accepted(id_, TransactionStatus(status), *rest)


# The parameters of ACCEPT_ONE after the client, in order.
SINGLE = (
    "type",
    "debit_user_id",
    "credit_user_id",
    "amount",
    "currency",
    "partition",
    "idempotency_key",
    "request_hash",
    "metadata",
    "callback_url",
    "debit_role",
    "credit_role",
    "currency_from_credit",
    "hold",
    "expires_in",
)


def _digest(body: dict) -> str:
    """sha256 of ``body`` as canonical JSON (sorted keys, no spaces): a request's fingerprint."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _item(n: int, request: TransactionRequest, partitions: int) -> dict:
    debit_role, credit_role = ROLES[request.type]
    return {
        "n": n,
        "type": request.type,
        "debit_user_id": request.debit_user_id,
        "credit_user_id": request.credit_user_id,
        "amount": request.amount,
        "currency": request.currency,
        "partition": partition_of(request.debit_user_id, partitions),
        "idempotency_key": request.idempotency_key,
        "request_hash": request.fingerprint() if request.idempotency_key is not None else None,
        "metadata": request.metadata,
        "callback_url": request.callback_url,
        "debit_role": debit_role,
        "credit_role": credit_role,
        # The customer's wallet sets the currency when none is asked for: the user's, not the provider's.
        "currency_from_credit": request.type == TransactionType.DEPOSIT,
        "hold": request.hold,
        "expires_in": request.expires_in,
    }


def _domain_error(exc: DBAPIError) -> Exception:
    """The ledger's error for an accept_transactions refusal (SQLSTATE class WL); other errors as they are."""
    code = getattr(exc.orig, "pgcode", None)
    diag = getattr(exc.orig, "diag", None)
    detail = diag.message_detail if diag is not None else None
    if code == "WL404":
        return WalletNotFound(detail)
    if code == "WL400":
        return InvalidRequest(detail, diag.message_primary)
    if code == "WL409":
        return IdempotencyConflict(detail)
    if code == "WLT04":
        return TransactionNotFound(detail)
    if code == "WLC09":
        return StateConflict(detail, diag.message_primary)
    return exc
