"""Property: whatever the requests, the engine ends where a small in-memory model ends.

Requests come in rounds: each round is accepted, then drained (in batches of a random size), so a
later round may settle the holds and reverse the transactions of an earlier one. Transfers and
holds, captures (whole or part), voids, expiries and reversals (whole or part), between active
and inactive wallets in two currencies: balances, held amounts and every transaction's outcome
must be the model's.
"""

import uuid
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from ledger.accept import FollowUp, create_wallet, record_follow_up, record_transactions
from ledger.accept import TransactionRequest as Req
from ledger.enums import TransactionType
from ledger.errors import InvalidRequest, StateConflict
from ledger.invariants import verify
from ledger.opening import open_balance
from ledger.posting import drain_partitions
from tests.conftest import TEST_CLIENT

WALLETS = st.lists(
    st.tuples(
        st.integers(0, 500),
        st.sampled_from(["active", "active", "active", "inactive"]),
        st.sampled_from(["USD", "USD", "USD", "EUR"]),
    ),
    min_size=2,
    max_size=5,
)
AMOUNT = st.integers(1, 400)
SOME = st.one_of(st.none(), AMOUNT)
# Movements name a payer and how far along the others the payee is (never the payer itself);
# follow-ups name an earlier hold, or an earlier applied transaction, by index.
OP = st.one_of(
    st.tuples(st.sampled_from(["transfer", "hold", "hold"]), st.integers(0, 4), st.integers(0, 3), AMOUNT),
    st.tuples(st.just("capture"), st.integers(0, 20), SOME),
    st.tuples(st.sampled_from(["void", "expire"]), st.integers(0, 20)),
    st.tuples(st.just("reverse"), st.integers(0, 20), SOME),
)
ROUNDS = st.lists(st.lists(OP, min_size=2, max_size=12), min_size=2, max_size=3)
# Queued the way the expiry sweep queues one, but now, whatever the hold's expiry.
EXPIRE = """
    INSERT INTO transactions (type, amount, currency, debit_wallet_id, credit_wallet_id, partition, client_id,
                              original_id)
    SELECT 'expiry', amount, currency, debit_wallet_id, credit_wallet_id, partition, client_id, id
    FROM transactions WHERE id = :hold
    ON CONFLICT (original_id) WHERE type = 'expiry' DO NOTHING RETURNING id
"""


@dataclass
class Wallet:
    balance: int
    status: str
    currency: str


@dataclass
class Txn:
    kind: str
    payer: int
    payee: int
    amount: int
    outcome: str = "queued"
    reversed: int = 0
    original: "Txn | None" = None
    id: uuid.UUID | None = None


class Model:
    def __init__(self, wallets: list[tuple[int, str, str]]) -> None:
        self.wallets = [Wallet(*w) for w in wallets]
        self.txns: list[Txn] = []
        self.expired: set[int] = set()

    def held(self, index: int) -> int:
        return sum(t.amount for t in self.txns if t.kind == "hold" and t.payer == index and t.outcome == "held")

    def decide(self, txn: Txn) -> None:
        """The engine's rules, in the order it applies them."""
        if txn.kind in ("capture", "void", "expiry"):
            hold = txn.original
            if hold.outcome != "held":
                txn.outcome = "hold_not_pending"
                return
            payer, payee = self.wallets[hold.payer], self.wallets[hold.payee]
            captured = txn.amount if txn.kind == "capture" else 0
            if captured and not payer.status == payee.status == "active":
                txn.outcome = "wallet_inactive"
                return
            payee.balance += captured
            payer.balance += hold.amount - captured
            hold.outcome = {"capture": "captured", "void": "voided", "expiry": "expired"}[txn.kind]
            txn.outcome = "applied"
            return
        if txn.kind == "reversal" and txn.amount > txn.original.amount - txn.original.reversed:
            txn.outcome = "reversal_exceeds_original"
            return
        payer, payee = self.wallets[txn.payer], self.wallets[txn.payee]
        currency = payer.currency
        if payer.status != "active" or payee.status != "active":
            txn.outcome = "wallet_inactive"
        elif payer.currency != currency or payee.currency != currency:
            txn.outcome = "currency_mismatch"
        elif payer.balance < txn.amount:
            txn.outcome = "insufficient_funds"
        else:
            payer.balance -= txn.amount
            if txn.kind == "hold":
                txn.outcome = "held"
                return
            payee.balance += txn.amount
            txn.outcome = "applied"
            if txn.kind == "reversal":
                txn.original.reversed += txn.amount


def _accept_round(session: Session, model: Model, names: list[str], ops: list[tuple]) -> list[Txn]:
    """Accept a round's requests as the API would, mirroring in the model what is accepted."""
    accepted = []
    holds = [t for t in model.txns if t.kind == "hold"]
    reversible = [t for t in model.txns if t.kind in ("transfer", "capture") and t.outcome == "applied"]
    for op in ops:
        kind = op[0]
        if kind in ("transfer", "hold"):
            payer = op[1] % len(names)
            payee = (payer + 1 + op[2] % (len(names) - 1)) % len(names)
            txn = Txn(kind, payer, payee, op[3])
            request = Req(
                "transfer",
                names[payer],
                names[payee],
                op[3],
                currency=model.wallets[payer].currency,
                hold=kind == "hold",
                expires_in=3600 if kind == "hold" else None,
            )
            [result] = record_transactions(session, TEST_CLIENT, [request], partitions=1)
            txn.id = result.id
            if kind == "hold":
                holds.append(txn)
        elif kind == "expire":
            if not holds:
                continue
            hold = holds[op[1] % len(holds)]
            new_id = session.execute(text(EXPIRE), {"hold": hold.id}).scalar()
            if new_id is None:
                continue
            txn = Txn("expiry", hold.payer, hold.payee, hold.amount, original=hold, id=new_id)
        else:
            pool = reversible if kind == "reverse" else holds
            if not pool:
                continue
            original = pool[op[1] % len(pool)]
            amount = op[2] if kind != "void" else None
            follow_kind = {"capture": TransactionType.CAPTURE, "void": TransactionType.VOID}.get(
                kind, TransactionType.REVERSAL
            )
            try:
                with session.begin_nested():
                    result = record_follow_up(
                        session, TEST_CLIENT, FollowUp(follow_kind, original.id, amount), partitions=1
                    )
            except (InvalidRequest, StateConflict):
                continue
            if kind == "reverse":
                left = original.amount - original.reversed
                txn = Txn("reversal", original.payee, original.payer, amount or left, original=original, id=result.id)
            else:
                txn = Txn(
                    str(follow_kind), original.payer, original.payee, amount or original.amount, original=original
                )
                txn.id = result.id
        accepted.append(txn)
        model.txns.append(txn)
    session.commit()
    return accepted


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wallets=WALLETS, rounds=ROUNDS, batch_size=st.integers(1, 7))
def test_engine_matches_model(
    session: Session, session_factory: sessionmaker[Session], wallets, rounds, batch_size: int
) -> None:
    session.rollback()  # the session outlives examples: start clean whatever the last one left
    prefix = uuid.uuid4().hex[:8]
    names = [f"{prefix}-{i}" for i in range(len(wallets))]
    for name, (opening, _, currency) in zip(names, wallets, strict=True):
        create_wallet(session, TEST_CLIENT, name, "user", currency)
        if opening:
            open_balance(session, TEST_CLIENT, name, opening)
    for name, (_, status, _) in zip(names, wallets, strict=True):
        session.execute(text("UPDATE wallets SET status = :s WHERE user_id = :u"), {"s": status, "u": name})
    session.commit()
    model = Model(wallets)

    for ops in rounds:
        for txn in _accept_round(session, model, names, ops):
            model.decide(txn)
        drain_partitions(session_factory, [0], batch_size=batch_size, max_seconds=60)

    rows = session.execute(
        text("SELECT user_id, balance FROM wallets WHERE user_id LIKE :p"), {"p": f"{prefix}-%"}
    ).all()
    assert [dict(rows)[n] for n in names] == [w.balance for w in model.wallets]
    held = session.execute(
        text(
            "SELECT w.user_id, coalesce(sum(h.amount), 0) FROM wallets w LEFT JOIN open_holds h ON h.wallet_id = w.id"
            " WHERE w.user_id LIKE :p GROUP BY w.user_id"
        ),
        {"p": f"{prefix}-%"},
    ).all()
    assert [dict(held)[n] for n in names] == [model.held(i) for i in range(len(names))]
    outcomes = dict(
        session.execute(
            text("SELECT id, coalesce(failure_code, status) FROM transactions WHERE id = ANY(:ids)"),
            {"ids": [t.id for t in model.txns]},
        ).all()
    )
    assert [outcomes[t.id] for t in model.txns] == [t.outcome for t in model.txns]
    assert verify(session).ok
