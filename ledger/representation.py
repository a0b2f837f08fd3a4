"""The one JSON shape of a transaction, a wallet and a statement entry, shared by the API and the webhook payloads.

Plain dicts of JSON types (ids as strings, timestamps as ISO 8601 UTC), so any ``json.dumps``
can send them; the API's marshmallow schemas only document these shapes, they do not build them.
The batch endpoint renders a thousand transactions per request, so this stays a few attribute reads.
"""

from datetime import UTC, datetime

from ledger.models import Entry, Transaction, Wallet


def transaction_as_dict(t: Transaction) -> dict:
    """``from_user_id`` is the debited wallet and ``to_user_id`` the credited one, whatever the type."""
    return {
        "id": str(t.id),
        "type": t.type,
        "status": t.status,
        "amount": t.amount,
        "currency": t.currency,
        "from_user_id": t.debit_wallet.user_id,
        "to_user_id": t.credit_wallet.user_id,
        "metadata": t.metadata_,
        "created_at": timestamp(t.created_at),
        "applied_at": timestamp(t.applied_at),
        "decided_at": timestamp(t.decided_at),
        "failure": None if t.failure_code is None else {"code": t.failure_code, "message": t.failure_message},
    }


def wallet_as_dict(w: Wallet) -> dict:
    return {
        "user_id": w.user_id,
        "acnt_type": w.acnt_type,
        "currency": w.currency,
        "status": w.status,
        "balance": w.balance,
        "created_at": timestamp(w.created_at),
        "updated_at": timestamp(w.updated_at),
    }


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
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
