"""Holds that nobody settled in time: the sweep queues an expiry for each, like any settlement.

An expiry is a transaction of the hold's client, in the hold's partition, applied after whatever
was queued before it: a capture that arrived first still wins, and the expiry is then rejected
(``hold_not_pending``). One expiry per hold (``transactions_one_expiry``), so a sweep that finds
the same hold again before its expiry is applied adds nothing.
"""

from sqlalchemy import text
from sqlalchemy.orm import Session

# The oldest due holds first, through open_holds' expiry index; the hold's callback_url hears of it.
EXPIRE_DUE = text(
    """
    INSERT INTO transactions (type, amount, currency, debit_wallet_id, credit_wallet_id, partition, client_id,
                              callback_url, original_id)
    SELECT 'expiry', t.amount, t.currency, t.debit_wallet_id, t.credit_wallet_id, t.partition, t.client_id,
           t.callback_url, t.id
    FROM (SELECT transaction_id FROM open_holds WHERE expires_at <= now() ORDER BY expires_at LIMIT :limit) h
    JOIN transactions t ON t.id = h.transaction_id
    ON CONFLICT (original_id) WHERE type = 'expiry' DO NOTHING
    RETURNING partition
    """
)


def expire_due_holds(session: Session, limit: int = 10_000) -> list[int]:
    """Queue an expiry for each hold past its expiry (at most ``limit``); the partitions to wake. Callers commit."""
    return sorted(set(session.execute(EXPIRE_DUE, {"limit": limit}).scalars()))
