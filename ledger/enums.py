"""The ledger's vocabulary, defined once: models, decisions, schemas, tasks and tests use these.

The migrations spell the same values out in their CHECK constraints (a migration must keep meaning
what it meant when it ran); ``tests/ledger/test_schema.py`` checks that the two agree.
"""

from enum import StrEnum


class TransactionType(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"
    TRANSFER = "transfer"
    # Money entering the ledger from ``world``: migrations and the demo command only.
    OPENING = "opening"


class TransactionStatus(StrEnum):
    QUEUED = "queued"
    APPLIED = "applied"
    REJECTED = "rejected"


class FailureCode(StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    WALLET_INACTIVE = "wallet_inactive"
    CURRENCY_MISMATCH = "currency_mismatch"
    WALLET_NOT_FOUND = "wallet_not_found"


class AccountType(StrEnum):
    USER = "user"
    PROVIDER = "provider"
    # The ledger's own accounts (``world``): the only ones allowed below zero.
    SYSTEM = "system"


class WalletStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


# The movements a client may ask for, and which account type stands on each side of each.
MOVEMENTS = (TransactionType.DEPOSIT, TransactionType.WITHDRAW, TransactionType.TRANSFER)
ROLES = {
    TransactionType.DEPOSIT: (AccountType.PROVIDER, AccountType.USER),
    TransactionType.WITHDRAW: (AccountType.USER, AccountType.PROVIDER),
    TransactionType.TRANSFER: (AccountType.USER, AccountType.USER),
}
MAX_AMOUNT = 10**15
# What a user_id may be (CHECK wallets_user_id_format), in Python: ``\Z``, not ``$``, which would also
# match before a trailing newline that PostgreSQL's ``$`` refuses.
USER_ID_PATTERN = r"[A-Za-z0-9._:-]{1,64}\Z"


class Scope(StrEnum):
    """What an API key may do: resource:action. A route names the one it needs."""

    WALLETS_READ = "wallets:read"
    WALLETS_WRITE = "wallets:write"
    TRANSACTIONS_READ = "transactions:read"
    TRANSACTIONS_WRITE = "transactions:write"
    WEBHOOKS_MANAGE = "webhooks:manage"
    METRICS_READ = "metrics:read"


# The client that owns the ledger's own wallets (world, the seed's providers), and the one that
# owns what was accepted before clients existed (migration 0005).
PLATFORM_CLIENT = "platform"
DEFAULT_CLIENT = "default"
