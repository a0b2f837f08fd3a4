"""The pure heart of the posting engine: decide a batch of transactions in order, in memory.

No database here, so the rules can be read in one place and tested against a model directly.
Records are named tuples (and a slotted class for the one that changes): a batch decides a
thousand transactions, so building them must cost next to nothing.
"""

from dataclasses import dataclass
from typing import NamedTuple

from ledger.enums import AccountType, FailureCode, TransactionStatus, WalletStatus


class QueuedTransaction(NamedTuple):
    # The id as text: it only travels from the database and back to it.
    id: str
    type: str
    amount: int
    currency: str
    debit_wallet_id: int
    credit_wallet_id: int


@dataclass(slots=True)
class WalletState:
    id: int
    balance: int
    status: str
    currency: str
    acnt_type: str


class Decision(NamedTuple):
    transaction_id: str
    status: TransactionStatus
    failure_code: FailureCode | None = None
    failure_message: str | None = None


class Posting(NamedTuple):
    """One entry line: money leaving (negative) or reaching (positive) a wallet."""

    transaction_id: str
    wallet_id: int
    amount: int
    balance_after: int


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
        if not _affordable(txn, debit, credit):
            decisions.append(Decision(txn.id, TransactionStatus.REJECTED, *_failure(txn, debit, credit)))
            continue
        debit.balance -= txn.amount
        credit.balance += txn.amount
        postings.append(Posting(txn.id, debit.id, -txn.amount, debit.balance))
        postings.append(Posting(txn.id, credit.id, txn.amount, credit.balance))
        decisions.append(Decision(txn.id, TransactionStatus.APPLIED))
    return decisions, postings


def _affordable(txn: QueuedTransaction, debit: WalletState, credit: WalletState) -> bool:
    """The common case in one expression; ``_failure`` says which rule failed, and why."""
    return (
        debit.status == credit.status == WalletStatus.ACTIVE
        and debit.currency == credit.currency == txn.currency
        and (debit.balance >= txn.amount or debit.acnt_type == AccountType.SYSTEM)
    )


def _failure(txn: QueuedTransaction, debit: WalletState, credit: WalletState) -> tuple[FailureCode, str]:
    for wallet in (debit, credit):
        if wallet.status != WalletStatus.ACTIVE:
            return FailureCode.WALLET_INACTIVE, f"wallet {wallet.id} is {wallet.status}"
    for wallet in (debit, credit):
        if wallet.currency != txn.currency:
            return FailureCode.CURRENCY_MISMATCH, f"wallet {wallet.id} holds {wallet.currency}, not {txn.currency}"
    return FailureCode.INSUFFICIENT_FUNDS, f"balance {debit.balance} is less than {txn.amount}"
