"""How the ledger writes a moment in JSON: ISO 8601 in UTC with microseconds and a ``Z``.

Transactions and wallets are turned into JSON by PostgreSQL (``transaction_json`` and
``wallet_json``, migration 0004, whose ``utc_text`` writes moments the same way as this function).
"""

from datetime import UTC, datetime


def timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
