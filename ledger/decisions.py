"""The pure heart of the posting engine: decide a batch of transactions in order, in memory.

No database here, so the rules can be read in one place and tested against a model directly.
Records are named tuples (and a slotted class for the one that changes): a batch decides a
thousand transactions, so building them must cost next to nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ledger.enums import SETTLED_AS, AccountType, FailureCode, TransactionStatus, TransactionType, WalletStatus


class QueuedTransaction(NamedTuple):
    # The id as text: it only travels from the database and back to it.
    id: str
    type: str
    amount: int
    currency: str
    debit_wallet_id: int
    credit_wallet_id: int
    hold: bool
    # The hold a settlement settles, or the transaction a reversal reverses.
    original_id: str | None


@dataclass(slots=True)
class WalletState:
    id: int
    balance: int
    status: str
    currency: str
    acnt_type: str


@dataclass(slots=True)
class Original:
    """A transaction a settlement or a reversal names, as this batch leaves it."""

    id: str
    status: str
    amount: int
    reversed_amount: int


class Decision(NamedTuple):
    transaction_id: str
    type: str
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
    transactions: list[QueuedTransaction],
    wallets: dict[int, WalletState],
    originals: dict[str, Original],
    holding: Mapping[str, int],
) -> tuple[list[Decision], list[Posting]]:
    """Decide each transaction in order against running balances, updating ``wallets`` in place.

    Order matters: a debit may be affordable only because an earlier credit in the same batch
    landed, or refused because an earlier debit used the money; a capture settles a hold held
    earlier in the batch. ``originals`` holds what the batch's settlements and reversals name (and
    is kept up to date as the batch goes), ``holding`` the holding account of each currency.
    """
    decisions: list[Decision] = []
    postings: list[Posting] = []
    for txn in transactions:
        debit, credit = wallets[txn.debit_wallet_id], wallets[txn.credit_wallet_id]
        if txn.original_id is not None:
            if txn.type == TransactionType.REVERSAL:
                decision = _reverse(txn, debit, credit, originals.get(txn.original_id), postings)
            else:
                held = wallets[holding[txn.currency]]
                decision = _settle(txn, debit, credit, held, originals.get(txn.original_id), postings)
        elif not _affordable(txn, debit, credit):
            decision = Decision(txn.id, txn.type, TransactionStatus.REJECTED, *_failure(txn, debit, credit))
        elif txn.hold:
            decision = _move(txn, debit, wallets[holding[txn.currency]], postings, TransactionStatus.HELD)
        else:
            decision = _move(txn, debit, credit, postings, TransactionStatus.APPLIED)
        if txn.id in originals:
            originals[txn.id].status = decision.status
        decisions.append(decision)
    return decisions, postings


def _move(
    txn: QueuedTransaction, debit: WalletState, credit: WalletState, postings: list[Posting], status: str
) -> Decision:
    """The amount from ``debit`` to ``credit`` (the payee, or for a hold, the holding account)."""
    debit.balance -= txn.amount
    credit.balance += txn.amount
    postings.append(Posting(txn.id, debit.id, -txn.amount, debit.balance))
    postings.append(Posting(txn.id, credit.id, txn.amount, credit.balance))
    return Decision(txn.id, txn.type, status)


def _settle(
    txn: QueuedTransaction,
    payer: WalletState,
    payee: WalletState,
    held: WalletState,
    hold: Original | None,
    postings: list[Posting],
) -> Decision:
    """The hold's money leaves the holding account: the captured part to the payee, the rest to the payer.

    A void or an expiry gives money back, which no wallet's state may refuse; a capture pays the
    payee, so both wallets must be active, as for a transfer.
    """
    if hold is None or hold.status != TransactionStatus.HELD or txn.amount > hold.amount:
        state = "unknown" if hold is None else hold.status
        return Decision(
            txn.id, txn.type, TransactionStatus.REJECTED, FailureCode.HOLD_NOT_PENDING, f"the hold is {state}"
        )
    captured = txn.amount if txn.type == TransactionType.CAPTURE else 0
    if captured and not payer.status == payee.status == WalletStatus.ACTIVE:
        return Decision(txn.id, txn.type, TransactionStatus.REJECTED, *_failure(txn, payer, payee))
    held.balance -= hold.amount
    postings.append(Posting(txn.id, held.id, -hold.amount, held.balance))
    if captured:
        payee.balance += captured
        postings.append(Posting(txn.id, payee.id, captured, payee.balance))
    if hold.amount > captured:
        payer.balance += hold.amount - captured
        postings.append(Posting(txn.id, payer.id, hold.amount - captured, payer.balance))
    hold.status = SETTLED_AS[txn.type]
    return Decision(txn.id, txn.type, TransactionStatus.APPLIED)


def _reverse(
    txn: QueuedTransaction,
    debit: WalletState,
    credit: WalletState,
    original: Original | None,
    postings: list[Posting],
) -> Decision:
    """The original's payee pays back its payer: at most what is left to reverse, and only if it can."""
    applied = original is not None and original.status == TransactionStatus.APPLIED
    left = original.amount - original.reversed_amount if applied else 0
    if txn.amount > left:
        message = f"{left} is left to reverse, not {txn.amount}"
        return Decision(txn.id, txn.type, TransactionStatus.REJECTED, FailureCode.REVERSAL_EXCEEDS_ORIGINAL, message)
    if not _affordable(txn, debit, credit):
        return Decision(txn.id, txn.type, TransactionStatus.REJECTED, *_failure(txn, debit, credit))
    original.reversed_amount += txn.amount
    return _move(txn, debit, credit, postings, TransactionStatus.APPLIED)


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
