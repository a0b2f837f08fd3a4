"""The seed's sample users, for demos only: never created by migrations.

Each is funded from ``world`` through an opening transaction, so demo money is accounted for
like any other. Running it twice changes nothing.
"""

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from ledger.models import Wallet
from ledger.opening import ensure_wallet, open_balance

# The client `make dev` creates and gives its key to (.dev/env): the demo users are its own.
DEV_CLIENT = "dev"

# user_id, opening balance in cents, status
DEMO_USERS = [
    ("user-001", 100_000, "active"),
    ("user-002", 50_000, "active"),
    ("user-003", 25_000, "active"),
    ("user-004", 0, "active"),
    ("user-inactive", 10_000, "inactive"),
]


def create_demo_users(session: Session, client_id: str) -> list[str]:
    """Create the client's demo wallets that do not exist yet; return the ids created."""
    session.execute(text("INSERT INTO clients (id) VALUES (:id) ON CONFLICT DO NOTHING"), {"id": client_id})
    created = []
    for user_id, balance, status in DEMO_USERS:
        wallet, is_new = ensure_wallet(session, client_id, user_id, "user")
        if not is_new:
            continue
        if balance:
            open_balance(session, client_id, user_id, balance)
        session.execute(update(Wallet).where(Wallet.id == wallet.id).values(status=status))
        created.append(user_id)
    return created
