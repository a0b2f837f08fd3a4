"""The posting engine: drain a partition's queued transactions in ``seq`` order, a batch per commit.

One batch is one database transaction: take the partition's advisory lock, read up to
``batch_size`` queued rows, lock every wallet they touch, decide them in memory (ledger.decisions),
then write each touched balance once, all entries in one insert, all statuses in one update, and
whatever the caller's hook writes in the same transaction (the webhook outbox), and commit once.
N transactions cost one commit, which is what makes a single hot wallet as fast as uniform traffic.
"""

import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ledger.decisions import Decision, Posting, QueuedTransaction, WalletState, decide
from ledger.enums import TransactionStatus

log = logging.getLogger(__name__)

# First key of the two-key advisory lock, so our partition locks cannot collide with anyone else's.
ADVISORY_LOCK_NAMESPACE = 0x57414C  # "WAL"
# Deadlock and serialization failure: the batch is rolled back whole and can simply run again.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
MAX_ATTEMPTS = 5

# Writes what must exist if and only if the batch's decisions do (the webhook outbox), inside the
# batch's database transaction, before its commit; returns how many rows it wrote. The engine
# knows nothing of who subscribes.
DecisionHook = Callable[[Session, list[Decision]], int]


class ConcurrentApply(Exception):
    """A queued row changed under us despite the advisory lock: refuse to commit anything."""


@dataclass
class BatchResult:
    decisions: list[Decision] = field(default_factory=list)
    events: int = 0


@dataclass
class DrainResult:
    applied: list[uuid.UUID] = field(default_factory=list)
    rejected: list[uuid.UUID] = field(default_factory=list)
    batches: int = 0
    events: int = 0
    exhausted: bool = True


def drain_partition(
    session_factory: sessionmaker[Session],
    partition: int,
    *,
    batch_size: int = 1000,
    max_seconds: float = 5.0,
    on_decided: DecisionHook | None = None,
) -> DrainResult:
    """Apply batches until the partition has no queued rows or ``max_seconds`` have passed.

    ``exhausted`` is False when time ran out with work left, so the caller can wake the
    partition again instead of holding its worker forever.
    """
    result = DrainResult()
    deadline = time.monotonic() + max_seconds
    while True:
        batch = _apply_with_retry(session_factory, partition, batch_size, on_decided)
        result.batches += 1
        result.events += batch.events
        for decision in batch.decisions:
            applied = decision.status == TransactionStatus.APPLIED
            (result.applied if applied else result.rejected).append(decision.transaction_id)
        if len(batch.decisions) < batch_size:
            return result
        if time.monotonic() >= deadline:
            result.exhausted = False
            return result


def _apply_with_retry(
    session_factory: sessionmaker[Session], partition: int, batch_size: int, on_decided: DecisionHook | None
) -> BatchResult:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with session_factory() as session, session.begin():
                return apply_batch(session, partition, batch_size, on_decided)
        except DBAPIError as exc:
            sqlstate = getattr(exc.orig, "pgcode", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt == MAX_ATTEMPTS:
                raise
            log.warning("partition %s: batch rolled back (%s), retry %s", partition, sqlstate, attempt)
            time.sleep(random.uniform(0, 0.05 * attempt))
    raise AssertionError("unreachable")


def apply_batch(
    session: Session, partition: int, batch_size: int, on_decided: DecisionHook | None = None
) -> BatchResult:
    """Decide and write one batch inside the caller's database transaction; the caller commits."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:ns, :partition)"),
        {"ns": ADVISORY_LOCK_NAMESPACE, "partition": partition},
    )
    queued = _queued(session, partition, batch_size)
    if not queued:
        return BatchResult()
    wallets = _lock_wallets(session, queued)
    opening_balances = {wallet_id: wallet.balance for wallet_id, wallet in wallets.items()}
    decisions, postings = decide(queued, wallets)
    changed = [w for w in wallets.values() if w.balance != opening_balances[w.id]]
    _write_balances(session, changed)
    _write_entries(session, postings)
    _write_statuses(session, decisions)
    events = on_decided(session, decisions) if on_decided is not None else 0
    return BatchResult(decisions, events)


def _queued(session: Session, partition: int, batch_size: int) -> list[QueuedTransaction]:
    rows = session.execute(
        text(
            "SELECT id, type, amount, currency, debit_wallet_id, credit_wallet_id FROM transactions"
            " WHERE partition = :partition AND status = 'queued' ORDER BY seq LIMIT :limit"
        ),
        {"partition": partition, "limit": batch_size},
    )
    return [QueuedTransaction(*row) for row in rows]


def _lock_wallets(session: Session, queued: list[QueuedTransaction]) -> dict[int, WalletState]:
    # Ascending id order on both sides of every transfer: two partitions whose batches share
    # wallets always take the row locks in the same order, so they queue instead of deadlocking.
    # NO KEY UPDATE, not UPDATE: the accept path's foreign-key checks take KEY SHARE on both wallets
    # (in debit, credit order), which FOR UPDATE would block, deadlocking an insert with a batch.
    ids = sorted({t.debit_wallet_id for t in queued} | {t.credit_wallet_id for t in queued})
    rows = session.execute(
        text(
            "SELECT id, balance, status, currency, acnt_type FROM wallets"
            " WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR NO KEY UPDATE"
        ),
        {"ids": _pg_array(ids)},
    )
    return {row.id: WalletState(*row) for row in rows}


def _write_balances(session: Session, wallets: list[WalletState]) -> None:
    if not wallets:
        return
    session.execute(
        text(
            "UPDATE wallets AS w SET balance = u.balance, updated_at = now()"
            " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS u(id bigint, balance bigint)"
            " WHERE w.id = u.id"
        ),
        {"rows": json.dumps([{"id": w.id, "balance": w.balance} for w in wallets])},
    )


def _write_entries(session: Session, postings: list[Posting]) -> None:
    if not postings:
        return
    session.execute(
        text(
            "INSERT INTO entries (transaction_id, wallet_id, amount, balance_after)"
            " SELECT transaction_id, wallet_id, amount, balance_after"
            " FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
            " AS p(transaction_id uuid, wallet_id bigint, amount bigint, balance_after bigint)"
        ),
        {"rows": json.dumps([p.as_row() for p in postings])},
    )


def _write_statuses(session: Session, decisions: list[Decision]) -> None:
    # clock_timestamp(), not now(): now() is the start of the batch's transaction, which would hide
    # the batch's own duration from every submit-to-applied latency.
    # Guarded by status = 'queued': if any row was decided elsewhere the counts differ and the
    # whole batch rolls back, so nothing is ever applied twice.
    updated = session.execute(
        text(
            "UPDATE transactions AS t SET status = u.status, failure_code = u.failure_code,"
            " failure_message = u.failure_message, decided_at = clock_timestamp()"
            " FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
            " AS u(transaction_id uuid, status text, failure_code text, failure_message text)"
            " WHERE t.id = u.transaction_id AND t.status = 'queued'"
        ),
        {"rows": json.dumps([d.as_row() for d in decisions])},
    ).rowcount
    if updated != len(decisions):
        raise ConcurrentApply(f"{len(decisions) - updated} of {len(decisions)} rows were no longer queued")


def _pg_array(values: list[int]) -> str:
    """A bigint array as one text literal: parsed once by the server, no per-element plan nodes."""
    return "{" + ",".join(map(str, values)) + "}"
