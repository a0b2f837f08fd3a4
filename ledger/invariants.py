"""The ledger's invariants, checked from the rows alone (docs/architecture.md, "Invariants").

Each check is an independent SQL query that trusts nothing the engine wrote about itself: a
balance changed behind the ledger's back disagrees with the sum of its entries and is named.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

# How many offenders each failed check names; the count is always exact.
SHOWN = 20

CHECKS = {
    "transaction entries do not sum to zero": """
        SELECT transaction_id::text FROM entries GROUP BY transaction_id HAVING sum(amount) <> 0""",
    "wallet balance differs from the sum of its entries": """
        SELECT w.user_id FROM wallets w
        LEFT JOIN (SELECT wallet_id, sum(amount) AS total FROM entries GROUP BY wallet_id) e
               ON e.wallet_id = w.id
        WHERE w.balance <> coalesce(e.total, 0)""",
    "entry balance_after differs from the running sum": """
        SELECT id::text FROM (
            SELECT id, balance_after,
                   sum(amount) OVER (PARTITION BY wallet_id ORDER BY id) AS running
            FROM entries) s
        WHERE balance_after <> running""",
    "user or provider balance below zero": """
        SELECT user_id FROM wallets WHERE balance < 0 AND acnt_type <> 'system'""",
    # One pass over entries grouped per transaction: with exactly two lines, one negative and one
    # positive, the sums below are those lines' own wallet and amount.
    "applied transaction without exactly its two entries": """
        SELECT t.id::text FROM transactions t
        LEFT JOIN (
            SELECT transaction_id, count(*) AS lines,
                   sum(wallet_id) FILTER (WHERE amount < 0) AS debit_wallet,
                   sum(-amount) FILTER (WHERE amount < 0) AS debit_amount,
                   sum(wallet_id) FILTER (WHERE amount > 0) AS credit_wallet,
                   sum(amount) FILTER (WHERE amount > 0) AS credit_amount
            FROM entries GROUP BY transaction_id) e ON e.transaction_id = t.id
        WHERE t.status = 'applied' AND (
            e.lines IS DISTINCT FROM 2
            OR e.debit_wallet IS DISTINCT FROM t.debit_wallet_id OR e.debit_amount IS DISTINCT FROM t.amount
            OR e.credit_wallet IS DISTINCT FROM t.credit_wallet_id OR e.credit_amount IS DISTINCT FROM t.amount)""",
    "queued or rejected transaction with entries": """
        SELECT DISTINCT t.id::text FROM transactions t JOIN entries e ON e.transaction_id = t.id
        WHERE t.status <> 'applied'""",
    "entry of a transaction or a wallet that does not exist": """
        SELECT e.id::text FROM entries e
        LEFT JOIN transactions t ON t.id = e.transaction_id
        LEFT JOIN wallets w ON w.id = e.wallet_id
        WHERE t.id IS NULL OR w.id IS NULL""",
    # The queue is the engine's to-do list: exactly the queued transactions, each in its own partition.
    "queued transaction missing from the queue, or queued twice": """
        SELECT t.id::text FROM transactions t
        LEFT JOIN transaction_queue q ON q.transaction_id = t.id
        WHERE t.status = 'queued'
        GROUP BY t.id, t.partition, t.seq
        HAVING count(q.transaction_id) <> 1 OR bool_or(q.partition <> t.partition OR q.seq <> t.seq)""",
    "queue row of a decided or unknown transaction, or unlike its transaction": """
        SELECT q.transaction_id::text FROM transaction_queue q
        LEFT JOIN transactions t ON t.id = q.transaction_id
        WHERE t.status IS DISTINCT FROM 'queued'
           OR (q.type, q.amount, q.currency, q.debit_wallet_id, q.credit_wallet_id)
              IS DISTINCT FROM (t.type, t.amount, t.currency, t.debit_wallet_id, t.credit_wallet_id)""",
}

TOTAL = "SELECT coalesce(sum(balance), 0) FROM wallets"
STALE = """
    SELECT id::text FROM transactions
    WHERE status = 'queued' AND created_at < now() - CAST(:age AS interval)"""
COUNTS = """
    SELECT (SELECT count(*) FROM wallets),
           count(*) FILTER (WHERE status = 'applied'),
           count(*) FILTER (WHERE status = 'rejected'),
           count(*) FILTER (WHERE status = 'queued'),
           (SELECT count(*) FROM entries)
    FROM transactions"""


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, max_queued_age: timedelta | None = None) -> Report:
    """Run every check in one REPEATABLE READ snapshot so concurrent applies cannot skew them.

    The checks use a connection of their own, so they see only committed rows, whatever the
    caller's session holds.
    """
    with session.get_bind().connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return _verify(conn, max_queued_age)


def _verify(session: Connection, max_queued_age: timedelta | None) -> Report:
    report = Report()
    for name, query in CHECKS.items():
        _collect(report, name, session.execute(text(query)).scalars().all())
    total = session.execute(text(TOTAL)).scalar_one()
    if total != 0:
        report.problems.append(f"sum of all balances is {total}, not 0")
    if max_queued_age is not None:
        stale = session.execute(text(STALE), {"age": f"{max_queued_age.total_seconds()} seconds"}).scalars()
        _collect(report, f"queued for longer than {max_queued_age.total_seconds():g}s", stale.all())
    wallets, applied, rejected, queued, entries = session.execute(text(COUNTS)).one()
    report.summary = (
        f"{wallets} wallets, {applied} applied, {rejected} rejected, {queued} queued,"
        f" {entries} entries, sum of balances {total}"
    )
    return report


def _collect(report: Report, name: str, offenders: list[str]) -> None:
    if offenders:
        shown = ", ".join(offenders[:SHOWN]) + (" …" if len(offenders) > SHOWN else "")
        report.problems.append(f"{name}: {len(offenders)} ({shown})")
