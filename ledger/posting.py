"""The posting engine: apply queued transactions in ``seq`` order, a batch per commit.

One batch is one database transaction over a set of partitions (those of one worker process):
take each partition's advisory lock, read up to ``batch_size`` queued rows in ``seq`` order, lock
every wallet they touch, decide them in memory (ledger.decisions), then write every touched
balance, every entry and every status (a statement each), whatever the caller's hook writes in the
same transaction (the webhook outbox), and commit once. N transactions cost one commit and about
nine round trips, which is what makes a hot wallet as fast as uniform traffic and keeps a
drain of a handful of rows cheap.

The database backs every step: a decided transaction can never change again (trigger
``transactions_decided_final``, which makes a second decision roll the batch back), the queue row
goes with the status change (``transactions_queue_decided``), and entries must come as whole,
balanced transactions of existing wallets (``entries_checked``). Holds and reversals add one read
when a batch holds a settlement or a reversal (the transactions they name, locked), and the
holding accounts to the wallets it locks; the database settles the hold, or counts the reversal
against its original, when the status says applied (``transactions_follow_up_applied``).
"""

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import Prepared
from ledger.decisions import Decision, Original, QueuedTransaction, WalletState, decide
from ledger.enums import HOLDING_PREFIX, SETTLED_AS, AccountType, TransactionStatus

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

# Every statement of a batch is prepared once per connection (ledger.db.Prepared): planned, the
# queue read over a worker's partitions cost ten times what it took to run.

# In ascending partition order, so two appliers whose partition sets overlap (a misconfiguration,
# or a redelivery during a restart) queue instead of deadlocking.
LOCK_PARTITIONS = Prepared(
    "ledger_lock_partitions",
    ("int", "int[]"),
    "SELECT count(pg_advisory_xact_lock($1, p)) FROM unnest($2) AS p",
)
# Each partition read on its own, in index order: a plain index scan stops after $2 rows and marks
# the entries of rows deleted since the last vacuum as dead, so later scans step over them (a
# bitmap scan over all the partitions at once would revisit every one of them, every batch).
QUEUED = Prepared(
    "ledger_queued",
    ("int[]", "int"),
    """
    SELECT CAST(q.transaction_id AS text), q.type, q.amount, q.currency, q.debit_wallet_id, q.credit_wallet_id,
           q.hold, CAST(q.original_id AS text)
    FROM unnest($1) AS p(partition)
    CROSS JOIN LATERAL (
        SELECT * FROM transaction_queue q WHERE q.partition = p.partition ORDER BY q.seq LIMIT $2) AS q
    ORDER BY q.seq
    LIMIT $2
    """,
)
# The holds a batch settles and the transactions it reverses, locked: a settlement and a reversal
# of one original could come from two partitions (a capture, then a reversal of that capture).
ORIGINALS = Prepared(
    "ledger_originals",
    ("uuid[]",),
    "SELECT CAST(id AS text), status, amount, reversed_amount FROM transactions WHERE id = ANY($1) FOR UPDATE",
)
# Ascending id order on both sides of every transfer: two batches that share wallets always take
# the row locks in the same order, so they queue instead of deadlocking. NO KEY UPDATE, not
# UPDATE: the accept path's foreign-key checks take KEY SHARE on both wallets, which FOR UPDATE
# would block, deadlocking an insert with a batch.
LOCK_WALLETS = Prepared(
    "ledger_lock_wallets",
    ("bigint[]",),
    "SELECT id, balance, status, currency, acnt_type FROM wallets WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
)
# The same, with the holding accounts (named ``holding:<currency>``) of a batch that holds or settles.
LOCK_WALLETS_AND_HOLDING = Prepared(
    "ledger_lock_wallets_holding",
    ("bigint[]", "text[]"),
    "SELECT id, balance, status, currency, acnt_type FROM wallets"
    " WHERE id = ANY($1) OR (client_id = 'platform' AND user_id = ANY($2)) ORDER BY id FOR NO KEY UPDATE",
)
# Every touched balance, once per batch, to the value the decisions arrived at.
BALANCES = Prepared(
    "ledger_balances",
    ("bigint[]", "bigint[]"),
    """
    UPDATE wallets AS w SET balance = u.balance, updated_at = now()
    FROM unnest($1, $2) AS u(id, balance) WHERE w.id = u.id
    """,
)
ENTRIES = Prepared(
    "ledger_entries",
    ("uuid[]", "bigint[]", "bigint[]", "bigint[]"),
    """
    INSERT INTO entries (transaction_id, wallet_id, amount, balance_after)
    SELECT * FROM unnest($1, $2, $3, $4)
    """,
)
# decided_at is clock_timestamp(), not now(): now() is the start of the batch's transaction, which
# would hide the batch's own duration from every submit-to-applied latency. No "status = 'queued'"
# filter: a decided row's status cannot change (transactions_decided_final raises, and the whole
# batch rolls back), which is the guard, kept by the database for every writer. Each row answers
# its submit-to-decided latency, which the row already holds: one float a row, no other read.
STATUSES = Prepared(
    "ledger_statuses",
    ("uuid[]", "text[]", "text[]", "text[]"),
    """
    UPDATE transactions AS t
    SET status = u.status, failure_code = u.failure_code, failure_message = u.failure_message,
        decided_at = clock_timestamp()
    FROM unnest($1, $2, $3, $4) AS u(id, status, failure_code, failure_message)
    WHERE t.id = u.id
    RETURNING CAST(extract(epoch FROM t.decided_at - t.created_at) AS float8)
    """,
)


class ConcurrentApply(Exception):
    """A queued row vanished under us despite the advisory lock: refuse to commit anything."""


@dataclass
class BatchResult:
    decisions: list[Decision] = field(default_factory=list)
    events: int = 0
    # Seconds from each decided row's acceptance to its decision (decided_at - created_at), for metrics.
    latencies: list[float] = field(default_factory=list)


@dataclass
class DrainResult:
    # Applied, or held: whatever moved money; rejected: what did not.
    applied: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    batches: int = 0
    events: int = 0
    exhausted: bool = True

    def add(self, batch: BatchResult) -> None:
        self.batches += 1
        self.events += batch.events
        for decision in batch.decisions:
            rejected = decision.status == TransactionStatus.REJECTED
            (self.rejected if rejected else self.applied).append(decision.transaction_id)


def drain_partitions(
    session_factory: sessionmaker[Session],
    partitions: Sequence[int],
    *,
    batch_size: int = 1000,
    max_seconds: float = 5.0,
    on_decided: DecisionHook | None = None,
) -> DrainResult:
    """Apply batches until the partitions have no queued rows or ``max_seconds`` have passed.

    ``exhausted`` is False when time ran out with work left, so the caller can wake the
    partitions again instead of holding its worker forever.
    """
    result = DrainResult()
    deadline = time.monotonic() + max_seconds
    while True:
        batch = apply_with_retry(session_factory, partitions, batch_size, on_decided)
        result.add(batch)
        if len(batch.decisions) < batch_size:
            return result
        if time.monotonic() >= deadline:
            result.exhausted = False
            return result


def apply_with_retry(
    session_factory: sessionmaker[Session],
    partitions: Sequence[int],
    batch_size: int,
    on_decided: DecisionHook | None = None,
) -> BatchResult:
    """One batch in a database transaction of its own, run again after a deadlock or serialization failure."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with session_factory() as session, session.begin():
                return apply_batch(session, partitions, batch_size, on_decided)
        except DBAPIError as exc:
            sqlstate = getattr(exc.orig, "pgcode", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt == MAX_ATTEMPTS:
                raise
            log.warning("partitions %s: batch rolled back (%s), retry %s", list(partitions), sqlstate, attempt)
            time.sleep(random.uniform(0, 0.05 * attempt))
    raise AssertionError("unreachable")


def apply_batch(
    session: Session, partitions: Sequence[int], batch_size: int, on_decided: DecisionHook | None = None
) -> BatchResult:
    """Decide and write one batch inside the caller's database transaction; the caller commits."""
    ordered = _array(sorted(set(partitions)))
    LOCK_PARTITIONS.execute(session, ADVISORY_LOCK_NAMESPACE, ordered)
    queued = list(map(QueuedTransaction._make, QUEUED.rows(session, ordered, batch_size)))
    if not queued:
        return BatchResult()
    wallet_ids = {t.debit_wallet_id for t in queued} | {t.credit_wallet_id for t in queued}
    named = {t.original_id for t in queued if t.original_id is not None}
    originals = {row[0]: Original(*row) for row in ORIGINALS.rows(session, _array(named))} if named else {}
    holding_names = {HOLDING_PREFIX + t.currency for t in queued if t.hold or t.type in SETTLED_AS}
    touched = _array(sorted(wallet_ids))
    rows = (
        LOCK_WALLETS_AND_HOLDING.rows(session, touched, _array(sorted(holding_names)))
        if holding_names
        else LOCK_WALLETS.rows(session, touched)
    )
    wallets = {row[0]: WalletState(*row) for row in rows}
    holding = {w.currency: w.id for w in wallets.values() if w.acnt_type == AccountType.HOLDING}
    opening = {wallet_id: wallet.balance for wallet_id, wallet in wallets.items()}
    decisions, postings = decide(queued, wallets, originals, holding)
    changed = [(w.id, w.balance) for w in wallets.values() if w.balance != opening[w.id]]
    # Columns of each record list, transposed in one pass (the lists hold thousands of rows).
    wallet_ids, balances = zip(*changed, strict=True) if changed else ((), ())
    entries = zip(*postings, strict=True) if postings else ((), (), (), ())
    entry_transactions, entry_wallets, entry_amounts, entry_balances = entries
    ids, _, statuses, failure_codes, failure_messages = zip(*decisions, strict=True)
    if changed:
        BALANCES.execute(session, _array(wallet_ids), _array(balances))
    if postings:
        ENTRIES.execute(session, *map(_array, (entry_transactions, entry_wallets, entry_amounts, entry_balances)))
    decided = STATUSES.rows(
        session, _array(ids), _array(statuses), _text_array(failure_codes), _text_array(failure_messages)
    )
    latencies = [latency for (latency,) in decided]
    if len(latencies) != len(decisions):
        raise ConcurrentApply(f"{len(decisions) - len(latencies)} of {len(decisions)} queued rows were not found")
    events = on_decided(session, decisions) if on_decided is not None else 0
    return BatchResult(decisions, events, latencies)


def _array(values) -> str:
    """An array of numbers, uuids or bare words as one text literal: parsed once by the server,
    one parameter whatever the batch size, so the statement's plan never depends on it."""
    return "{" + ",".join(map(str, values)) + "}"


def _text_array(values) -> str:
    """A text array literal of arbitrary strings (quoted and escaped) and NULLs."""
    return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
