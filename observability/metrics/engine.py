"""What a ledger worker records as it applies batches: decisions, latency, batch size and time, drains.

Recorded in the process that applies (the prefork pool's child, concurrency 1) and served by that
process itself (``workers.metrics``). Counters start again from zero when the process does, which
Prometheus' ``rate()`` and ``increase()`` expect of a counter.
"""

from collections import Counter as Tally
from collections.abc import Sequence

from prometheus_client import Counter, Histogram

from ledger.decisions import Decision
from ledger.enums import TransactionStatus

# From a batch of one (single requests, one by one) to APPLY_BATCH_SIZE's default of 3,000.
BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 3000)
BATCH_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Submit to decided: DRAIN_PACE_SECONDS (30 ms) and a batch at best, the sweeper's seconds after a lost wake-up.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

TRANSACTIONS_APPLIED = Counter(
    "wallet_transactions_applied",
    "Transactions that moved money (applied, or held), by type",
    ["type"],
)
TRANSACTIONS_REJECTED = Counter(
    "wallet_transactions_rejected",
    "Transactions rejected by the posting engine, by type and failure code",
    ["type", "failure_code"],
)
APPLY_LATENCY = Histogram(
    "wallet_transaction_apply_latency_seconds",
    "From a transaction's acceptance (created_at) to its decision (decided_at), applied or rejected",
    buckets=LATENCY_BUCKETS,
)
BATCH_SIZE = Histogram(
    "wallet_apply_batch_size",
    "Transactions decided per batch (one database transaction); batches that found nothing are not observed",
    buckets=BATCH_SIZE_BUCKETS,
)
BATCH_DURATION = Histogram(
    "wallet_apply_batch_duration_seconds",
    "Wall time of a batch that decided something, retries included, up to its commit",
    buckets=BATCH_DURATION_BUCKETS,
)
DRAINS = Counter("wallet_drains", "Drain tasks run by this worker (a drain carries many batches)")


def observe_batch(decisions: Sequence[Decision], latencies: Sequence[float], seconds: float) -> None:
    """Count one committed batch that decided something."""
    BATCH_SIZE.observe(len(decisions))
    BATCH_DURATION.observe(seconds)
    # Tallied first: one labelled increment per kind of decision, not one per row of a thousand.
    tally = Tally((d.type, d.failure_code) for d in decisions if d.status == TransactionStatus.REJECTED)
    for (kind, failure_code), count in tally.items():
        TRANSACTIONS_REJECTED.labels(kind, failure_code).inc(count)
    for kind, count in Tally(d.type for d in decisions if d.status != TransactionStatus.REJECTED).items():
        TRANSACTIONS_APPLIED.labels(kind).inc(count)
    for latency in latencies:
        APPLY_LATENCY.observe(latency)
