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
           percentile_cont(CAST(:fractions AS float8[])) WITHIN GROUP (ORDER BY decided_at - created_at)
               FILTER (WHERE decided_at IS NOT NULL) AS quantiles
    FROM transactions WHERE seq > :low AND seq <= :high
    """
)
# Applied rows per whole second since the workload's first acceptance: its applied/s over time.
PER_SECOND = text(
    """
    WITH rows AS (SELECT status, created_at, decided_at FROM transactions WHERE seq > :low AND seq <= :high)
    SELECT floor(extract(epoch FROM decided_at - (SELECT min(created_at) FROM rows)))::int AS second, count(*)
    FROM rows WHERE status = 'applied'
    GROUP BY second ORDER BY second
    """
)
# submit -> decided is kept at the quantiles i / LATENCY_STEPS, i = 0 .. LATENCY_STEPS (every half
# percent): the whole distribution in a few hundred numbers, p50, p95 and p99 among them.
LATENCY_STEPS = 200
FRACTIONS = [i / LATENCY_STEPS for i in range(LATENCY_STEPS + 1)]
P50, P95, P99 = (round(q * LATENCY_STEPS) for q in (0.5, 0.95, 0.99))
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
    # For the plots (bench/plots.py): applied rows in each second since the first acceptance, zeros
    # included (the single applied/s figure hides a stall or the workers' catch-up after the load),
    # and submit -> decided in ms at every quantile of FRACTIONS (empty if nothing was decided).
    # Quantiles rather than raw samples: a batch workload decides a hundred thousand rows, and the
    # plot of the distribution needs only its shape.
    applied_per_second: list[int] = field(default_factory=list)
    latency_ms_quantiles: list[float] = field(default_factory=list)


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
    """Counts, throughput, submit -> applied latency and applied/s over time of the rows with low < seq <= high."""
    bounds = {"low": low, "high": high}
    with engine.connect() as conn:
        row = conn.execute(STATS, {**bounds, "fractions": FRACTIONS}).one()
        rejected = {code: count for code, count in conn.execute(REJECTED, bounds)}
        counts = dict(conn.execute(PER_SECOND, bounds).all())
    quantiles = [q.total_seconds() * 1000 for q in row.quantiles] if row.quantiles else []
    span = float(row.span) if row.span else None
    return Outcome(
        transactions=row.total,
        applied=row.applied,
        queued=row.queued,
        applied_per_s=row.applied / span if span else 0.0,
        p50_ms=_round(quantiles[P50]) if quantiles else None,
        p95_ms=_round(quantiles[P95]) if quantiles else None,
        p99_ms=_round(quantiles[P99]) if quantiles else None,
        rejected=rejected,
        applied_per_second=[counts.get(second, 0) for second in range(max(counts) + 1)] if counts else [],
        latency_ms_quantiles=[round(q, 2) for q in quantiles],
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
