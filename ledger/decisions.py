"""The pure heart of the posting engine: decide a batch of transactions in order, in memory.

No database here, so the rules can be read in one place and tested against a model directly.
"""

import uuid
from dataclasses import dataclass

from ledger.enums import AccountType, FailureCode, TransactionStatus, WalletStatus


@dataclass(frozen=True)
class QueuedTransaction:
    id: uuid.UUID
    type: str
    amount: int
    currency: str
    debit_wallet_id: int
    credit_wallet_id: int


@dataclass
class WalletState:
    id: int
    balance: int
    status: str
    currency: str
    acnt_type: str


@dataclass(frozen=True)
class Decision:
    transaction_id: uuid.UUID
    status: str
    failure_code: str | None = None
    failure_message: str | None = None

    def as_row(self) -> dict:
        return {
            "transaction_id": str(self.transaction_id),
            "status": self.status,
            "failure_code": self.failure_code,
            "failure_message": self.failure_message,
        }


@dataclass(frozen=True)
class Posting:
    """One entry line: money leaving (negative) or reaching (positive) a wallet."""

    transaction_id: uuid.UUID
    wallet_id: int
    amount: int
    balance_after: int

    def as_row(self) -> dict:
        return {
            "transaction_id": str(self.transaction_id),
            "wallet_id": self.wallet_id,
            "amount": self.amount,
            "balance_after": self.balance_after,
        }


def decide(
    transactions: list[QueuedTransaction], wallets: dict[int, WalletState]
) -> tuple[list[Decision], list[Posting]]:
    """Decide each transaction in order against running balances, updating ``wallets`` in place.

    Order matters: a debit may be affordable only because an earlier credit in the same batch
    landed, or refused because an earlier debit used the money.
    """
    decisions: list[Decision] = []
    postings: list[Posting] = []
    for txn in transactions:
        debit, credit = wallets[txn.debit_wallet_id], wallets[txn.credit_wallet_id]
        failure = _failure(txn, debit, credit)
        if failure is not None:
            decisions.append(Decision(txn.id, TransactionStatus.REJECTED, *failure))
            continue
        debit.balance -= txn.amount
        credit.balance += txn.amount
        postings.append(Posting(txn.id, debit.id, -txn.amount, debit.balance))
        postings.append(Posting(txn.id, credit.id, txn.amount, credit.balance))
        decisions.append(Decision(txn.id, TransactionStatus.APPLIED))
    return decisions, postings


def _failure(txn: QueuedTransaction, debit: WalletState, credit: WalletState) -> tuple[str, str] | None:
    for wallet in (debit, credit):
        if wallet.status != WalletStatus.ACTIVE:
            return FailureCode.WALLET_INACTIVE, f"wallet {wallet.id} is {wallet.status}"
    for wallet in (debit, credit):
        if wallet.currency != txn.currency:
            return FailureCode.CURRENCY_MISMATCH, f"wallet {wallet.id} holds {wallet.currency}, not {txn.currency}"
    if debit.acnt_type != AccountType.SYSTEM and debit.balance < txn.amount:
        return FailureCode.INSUFFICIENT_FUNDS, f"balance {debit.balance} is less than {txn.amount}"
    return None
