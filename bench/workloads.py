"""The workloads: what each request carries, and how requests are offered.

``single_*`` send one transaction per request: ``single_uniform`` and ``single_hot`` as fast as 32
connections get answers (wrk, closed loop), against the synchronous baseline and then the system;
``single_paced`` at a fixed rate whatever the server does (open loop), half the baseline's maximum,
for submit -> applied latency. ``batch_*`` send ``POST /transactions/batch`` of 1,000 items from a
couple of concurrent requests. ``*_uniform`` are transfers between random wallets (every
partition); ``*_hot`` are deposits all through ``deposit-provider-master`` (one wallet, one
partition: the worst case for row locks, the best case for batching). ``reads`` GETs a wallet,
a transaction and ``/health``. ``poll`` is ``single_uniform``'s load with more connections
polling ``GET /transactions/{id}`` of the transactions it has just had accepted, as clients of a
submit-and-poll API do (wrk only: bench/lua/poll.lua).
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEPOSIT_PROVIDER = "deposit-provider-master"
BATCH_PATH = "/transactions/batch"

# (path, JSON body or None for a GET) of one request carrying ``count`` transactions
Request = tuple[str, dict | None]
RequestFactory = Callable[[int], Request]


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str  # "single", "paced", "batch", "reads" or "poll"
    type: str | None = None  # "transfer" or "deposit"

    @property
    def moves_money(self) -> bool:
        return self.type is not None


WORKLOADS = {
    w.name: w
    for w in (
        Workload("single_uniform", "single", "transfer"),
        Workload("poll", "poll", "transfer"),
        Workload("single_hot", "single", "deposit"),
        Workload("single_paced", "paced", "transfer"),
        Workload("reads", "reads"),
        Workload("batch_uniform", "batch", "transfer"),
        Workload("batch_hot", "batch", "deposit"),
    )
}


def wallet_ids(count: int) -> list[str]:
    """The names the wrk scripts generate too (bench/lua/money.lua): keep them in step."""
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

    return batch if workload.kind == "batch" else single


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
