"""What became of a workload's transactions, read from the rows themselves.

A workload's rows are the ``seq`` range it produced (``seq`` is the order of acceptance and the
bench is the only client of its database), so no tag has to travel in the requests. Latency is
``decided_at - created_at``: both are PostgreSQL ``now()``, the start of the accepting and of the
applying database transaction, so one clock, no client skew.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

POLL_SECONDS = 0.2

STATS = text(
    """
    SELECT count(*) AS total,
           count(*) FILTER (WHERE status = 'applied') AS applied,
           count(*) FILTER (WHERE status = 'queued') AS queued,
           extract(epoch FROM max(decided_at) FILTER (WHERE status = 'applied') - min(created_at)) AS span,
           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY decided_at - created_at)
               FILTER (WHERE decided_at IS NOT NULL) AS percentiles
    FROM transactions WHERE seq > :low AND seq <= :high
    """
)
REJECTED = text(
    """
    SELECT failure_code, count(*) FROM transactions
    WHERE seq > :low AND seq <= :high AND status = 'rejected'
    GROUP BY failure_code ORDER BY failure_code
    """
)


@dataclass
class Outcome:
    transactions: int
    applied: int
    queued: int
    applied_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    rejected: dict[str, int] = field(default_factory=dict)


def last_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(seq), 0) FROM transactions")).scalar_one()


def queued_count(engine: Engine) -> int:
    # Answered from the partial index on queued rows: cheap enough to poll while workers run.
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM transactions WHERE status = 'queued'")).scalar_one()


def wait_until_decided(engine: Engine, timeout: float, on_poll: Callable[[int], None]) -> int:
    """Poll until no row is queued or ``timeout`` passes; return how many are still queued."""
    deadline = time.monotonic() + timeout
    while True:
        queued = queued_count(engine)
        on_poll(queued)
        if queued == 0 or time.monotonic() >= deadline:
            return queued
        time.sleep(POLL_SECONDS)


def outcome(engine: Engine, low: int, high: int) -> Outcome:
    """Counts, throughput and submit -> applied percentiles of the rows with low < seq <= high."""
    bounds = {"low": low, "high": high}
    with engine.connect() as conn:
        row = conn.execute(STATS, bounds).one()
        rejected = {code: count for code, count in conn.execute(REJECTED, bounds)}
    percentiles = [p.total_seconds() * 1000 for p in row.percentiles] if row.percentiles else [None] * 3
    span = float(row.span) if row.span else None
    return Outcome(
        transactions=row.total,
        applied=row.applied,
        queued=row.queued,
        applied_per_s=row.applied / span if span else 0.0,
        p50_ms=_round(percentiles[0]),
        p95_ms=_round(percentiles[1]),
        p99_ms=_round(percentiles[2]),
        rejected=rejected,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
