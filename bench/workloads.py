"""The four workloads: what each request carries, and how requests are offered.

``single_*`` send one transaction per request at a fixed offered rate (open loop: the schedule does
not wait for the server, so a slow server shows up as latency, not as a politely slower client).
``batch_*`` send ``POST /transactions/batch`` of 1,000 items as fast as the server accepts them,
from a couple of concurrent requests. ``*_uniform`` are transfers between random wallets (spread
over every partition); ``*_hot`` are deposits all through ``deposit-provider-master`` (one wallet,
one partition: the worst case for row locks, the best case for batching).
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEPOSIT_PROVIDER = "deposit-provider-master"
BATCH_PATH = "/transactions/batch"

# (path, JSON body) of one request carrying ``count`` transactions
Request = tuple[str, dict]
RequestFactory = Callable[[int], Request]


@dataclass(frozen=True)
class Workload:
    name: str
    type: str  # "transfer" or "deposit"
    batched: bool


WORKLOADS = {
    w.name: w
    for w in (
        Workload("single_uniform", "transfer", batched=False),
        Workload("single_hot", "deposit", batched=False),
        Workload("batch_uniform", "transfer", batched=True),
        Workload("batch_hot", "deposit", batched=True),
    )
}


def wallet_ids(count: int) -> list[str]:
    return [f"bench-{i:06d}" for i in range(count)]


def request_factory(workload: Workload, users: Sequence[str], max_amount: int, seed: int) -> RequestFactory:
    """A function returning the next request of ``workload``; seeded, so every run sends the same."""
    rng = random.Random(seed)
    item = _transfer if workload.type == "transfer" else _deposit

    def single(count: int) -> Request:
        return f"/wallets/{workload.type}", item(rng, users, max_amount)

    def batch(count: int) -> Request:
        return BATCH_PATH, {
            "transactions": [{"type": workload.type, **item(rng, users, max_amount)} for _ in range(count)]
        }

    return batch if workload.batched else single


def funding_factory(users: Sequence[str], amount: int) -> RequestFactory:
    """Batches of deposits giving every wallet ``amount``, each wallet once, in order."""
    position = 0

    def batch(count: int) -> Request:
        nonlocal position
        chunk = users[position : position + count]
        position += len(chunk)
        items = [{"type": "deposit", "user_id": u, "amount": amount, "provider_id": DEPOSIT_PROVIDER} for u in chunk]
        return BATCH_PATH, {"transactions": items}

    return batch


def _transfer(rng: random.Random, users: Sequence[str], max_amount: int) -> dict:
    payer = rng.randrange(len(users))
    # Any other wallet, uniformly: shift by 1..n-1 so payer and payee always differ.
    payee = (payer + rng.randrange(1, len(users))) % len(users)
    return {"from_user_id": users[payer], "to_user_id": users[payee], "amount": rng.randint(1, max_amount)}


def _deposit(rng: random.Random, users: Sequence[str], max_amount: int) -> dict:
    return {"user_id": rng.choice(users), "amount": rng.randint(1, max_amount), "provider_id": DEPOSIT_PROVIDER}
