"""The shapes Python builds: a statement entry, and how the ledger writes a moment in JSON.

Transactions and wallets are turned into JSON by PostgreSQL (``transaction_json`` and
``wallet_json``, migration 0004, whose ``utc_text`` writes moments the way ``timestamp`` does:
ISO 8601 in UTC, with microseconds and a ``Z``).
"""

from datetime import UTC, datetime

from ledger.models import Entry


def entry_as_dict(e: Entry) -> dict:
    """One line of a wallet's statement: ``amount`` is signed (negative when the wallet paid)."""
    return {
        "id": e.id,
        "transaction_id": str(e.transaction_id),
        "type": e.transaction.type,
        "amount": e.amount,
        "balance_after": e.balance_after,
        "created_at": timestamp(e.created_at),
    }


def timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
