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
    # A hold's settlement: all or part of it to the payee (the rest back), or all of it back.
    CAPTURE = "capture"
    VOID = "void"
    # A void the expiry sweep submits for a hold nobody settled in time.
    EXPIRY = "expiry"
    # Money back from an applied transaction's payee to its payer.
    REVERSAL = "reversal"


class TransactionStatus(StrEnum):
    QUEUED = "queued"
    APPLIED = "applied"
    REJECTED = "rejected"
    # A hold's: applied as a reservation, then settled exactly once.
    HELD = "held"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"


class FailureCode(StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    WALLET_INACTIVE = "wallet_inactive"
    CURRENCY_MISMATCH = "currency_mismatch"
    WALLET_NOT_FOUND = "wallet_not_found"
    # A settlement of a hold that is no longer held (settled already, or rejected).
    HOLD_NOT_PENDING = "hold_not_pending"
    # A reversal for more than its original has left to reverse.
    REVERSAL_EXCEEDS_ORIGINAL = "reversal_exceeds_original"


class AccountType(StrEnum):
    USER = "user"
    PROVIDER = "provider"
    # The ledger's own accounts (``world``): the only ones allowed below zero.
    SYSTEM = "system"
    # The platform's account per currency where held money waits (``holding:USD``).
    HOLDING = "holding"


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
# Settlements of a hold, and the status each leaves the hold in.
SETTLED_AS = {
    TransactionType.CAPTURE: TransactionStatus.CAPTURED,
    TransactionType.VOID: TransactionStatus.VOIDED,
    TransactionType.EXPIRY: TransactionStatus.EXPIRED,
}
HOLDING_PREFIX = "holding:"
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
