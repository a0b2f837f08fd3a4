"""The seed's sample users, for demos only: never created by migrations.

Each is funded from ``world`` through an opening transaction, so demo money is accounted for
like any other. Running it twice changes nothing.
"""

from sqlalchemy import update
from sqlalchemy.orm import Session

from ledger.models import Wallet
from ledger.opening import ensure_wallet, open_balance

# user_id, opening balance in cents, status
DEMO_USERS = [
    ("user-001", 100_000, "active"),
    ("user-002", 50_000, "active"),
    ("user-003", 25_000, "active"),
    ("user-004", 0, "active"),
    ("user-inactive", 10_000, "inactive"),
]


def create_demo_users(session: Session) -> list[str]:
    """Create the demo wallets that do not exist yet; return the ids created."""
    created = []
    for user_id, balance, status in DEMO_USERS:
        _, is_new = ensure_wallet(session, user_id, "user")
        if not is_new:
            continue
        if balance:
            open_balance(session, user_id, balance)
        session.execute(update(Wallet).where(Wallet.user_id == user_id).values(status=status))
        created.append(user_id)
    return created
