"""The ledger's invariants, checked from the rows alone (docs/architecture.md, "Invariants").

Each check is an independent SQL query that trusts nothing the engine wrote about itself: a
balance changed behind the ledger's back disagrees with the sum of its entries and is named.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from ledger.enums import HOLDING_PREFIX, SETTLED_AS, TransactionStatus

# How many offenders each failed check names; the count is always exact.
SHOWN = 20
SETTLEMENTS = ", ".join(f"'{kind}'" for kind in SETTLED_AS)
SETTLED = ", ".join(f"'{status}'" for status in SETTLED_AS.values())
HOLD_STATES = ", ".join(f"'{status}'" for status in (TransactionStatus.HELD, *SETTLED_AS.values()))

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
    # Every entry, against what each decision moves: a movement or a reversal, payer to payee; a
    # hold (whatever became of it), payer to its currency's holding account; a settlement, the
    # hold's amount out of that account, the captured part to the payee and the rest to the payer.
    # Anything else (queued, rejected) moves nothing.
    "entries differ from what their transaction moved": f"""
        WITH holding AS (SELECT currency, id FROM wallets WHERE client_id = 'platform' AND acnt_type = 'holding'),
        expected AS (
            SELECT t.id, t.debit_wallet_id AS wallet_id, -t.amount AS amount FROM transactions t
            WHERE t.status = 'applied' AND t.type NOT IN ({SETTLEMENTS})
            UNION ALL
            SELECT t.id, t.credit_wallet_id, t.amount FROM transactions t
            WHERE t.status = 'applied' AND t.type NOT IN ({SETTLEMENTS})
            UNION ALL
            SELECT t.id, t.debit_wallet_id, -t.amount FROM transactions t WHERE t.hold AND t.status IN ({HOLD_STATES})
            UNION ALL
            SELECT t.id, h.id, t.amount FROM transactions t JOIN holding h ON h.currency = t.currency
            WHERE t.hold AND t.status IN ({HOLD_STATES})
            UNION ALL
            SELECT s.id, h.id, -o.amount FROM transactions s
            JOIN transactions o ON o.id = s.original_id JOIN holding h ON h.currency = s.currency
            WHERE s.status = 'applied' AND s.type IN ({SETTLEMENTS})
            UNION ALL
            SELECT s.id, s.credit_wallet_id, s.amount FROM transactions s
            WHERE s.status = 'applied' AND s.type = 'capture'
            UNION ALL
            SELECT s.id, s.debit_wallet_id, o.amount - CASE WHEN s.type = 'capture' THEN s.amount ELSE 0 END
            FROM transactions s JOIN transactions o ON o.id = s.original_id
            WHERE s.status = 'applied' AND s.type IN ({SETTLEMENTS}) AND (s.type <> 'capture' OR o.amount > s.amount)),
        actual AS (SELECT transaction_id AS id, wallet_id, sum(amount) AS amount FROM entries GROUP BY 1, 2)
        SELECT DISTINCT CAST(coalesce(e.id, a.id) AS text)
        FROM expected e FULL JOIN actual a ON a.id = e.id AND a.wallet_id = e.wallet_id
        WHERE e.amount IS DISTINCT FROM a.amount""",
    "open holds differ from the holds held": """
        SELECT CAST(coalesce(h.transaction_id, t.id) AS text)
        FROM open_holds h FULL JOIN (SELECT * FROM transactions WHERE status = 'held') t ON t.id = h.transaction_id
        WHERE (h.wallet_id, h.amount, h.currency, h.partition, h.client_id, h.expires_at)
              IS DISTINCT FROM (t.debit_wallet_id, t.amount, t.currency, t.partition, t.client_id, t.expires_at)""",
    "holding account balance differs from its currency's open holds": """
        SELECT w.user_id FROM wallets w
        LEFT JOIN (SELECT currency, sum(amount) AS total FROM open_holds GROUP BY currency) o ON o.currency = w.currency
        WHERE w.client_id = 'platform' AND w.acnt_type = 'holding' AND w.balance <> coalesce(o.total, 0)""",
    # Where a currency's holds wait (migration 0011 opens it with the currency's first wallet).
    "currency without its holding account": f"""
        SELECT DISTINCT w.currency FROM wallets w
        WHERE NOT EXISTS (SELECT FROM wallets h WHERE h.client_id = 'platform'
                          AND h.user_id = '{HOLDING_PREFIX}' || w.currency AND h.acnt_type = 'holding')""",
    # Captured, voided or expired by exactly one applied settlement of that kind; held or
    # rejected, by none; and a settlement settles a hold.
    "hold settled other than exactly once": f"""
        SELECT CAST(t.id AS text) FROM transactions t
        LEFT JOIN (SELECT original_id, count(*) AS settlements, min(type) AS kind FROM transactions
                   WHERE status = 'applied' AND type IN ({SETTLEMENTS}) GROUP BY original_id) s
               ON s.original_id = t.id
        WHERE (t.hold OR s.settlements IS NOT NULL)
          AND (NOT t.hold
               OR coalesce(s.settlements, 0) <> CASE WHEN t.status IN ({SETTLED}) THEN 1 ELSE 0 END
               OR t.status <> CASE s.kind WHEN 'capture' THEN 'captured' WHEN 'void' THEN 'voided'
                                          WHEN 'expiry' THEN 'expired' ELSE t.status END)""",
    "reversed amount differs from its applied reversals, or exceeds the original": """
        SELECT CAST(t.id AS text) FROM transactions t
        LEFT JOIN (SELECT original_id, sum(amount) AS total FROM transactions
                   WHERE type = 'reversal' AND status = 'applied' GROUP BY original_id) r ON r.original_id = t.id
        WHERE t.reversed_amount <> coalesce(r.total, 0) OR t.reversed_amount > t.amount""",
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
           OR (q.type, q.amount, q.currency, q.debit_wallet_id, q.credit_wallet_id, q.hold, q.original_id)
              IS DISTINCT FROM (t.type, t.amount, t.currency, t.debit_wallet_id, t.credit_wallet_id, t.hold,
                                t.original_id)""",
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
           count(*) FILTER (WHERE hold),
           (SELECT count(*) FROM open_holds),
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
    wallets, applied, rejected, queued, holds, open_holds, entries = session.execute(text(COUNTS)).one()
    report.summary = (
        f"{wallets} wallets, {applied} applied, {rejected} rejected, {queued} queued, {holds} holds"
        f" ({open_holds} open), {entries} entries, sum of balances {total}"
    )
    return report


def _collect(report: Report, name: str, offenders: list[str]) -> None:
    if offenders:
        shown = ", ".join(offenders[:SHOWN]) + (" …" if len(offenders) > SHOWN else "")
        report.problems.append(f"{name}: {len(offenders)} ({shown})")
