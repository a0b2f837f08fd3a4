"""The ledger's state, read from PostgreSQL when Prometheus scrapes, and the API's exposition.

Gauges of what is in the database (rows queued per partition and the age of the oldest, webhook
deliveries pending and given up) are not counted by any process: a process that restarts would
lose them, and several would disagree. They are read at scrape time, one statement per family,
each answered from a small index whatever the size of ``transactions``:

- the queue is ``transaction_queue`` (migration 0004), which holds only the queued rows (the
  ``transactions_queued`` partial index it replaced is gone), so grouping it reads only those;
- ``webhook_messages_due`` (0003) indexes the pending deliveries, ``webhook_messages_failed`` (0008)
  the ones given up.
"""

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Connection, text

QUEUE = text(
    """
    SELECT partition, count(*), extract(epoch FROM clock_timestamp() - min(created_at))
    FROM transaction_queue GROUP BY partition
    """
)
DELIVERIES = text(
    """
    SELECT (SELECT count(*) FROM webhook_messages WHERE status = 'pending'),
           (SELECT count(*) FROM webhook_messages WHERE status = 'failed')
    """
)


class LedgerState(Collector):
    """Collects the database gauges on ``connection``; made for one scrape.

    Every partition below ``partitions`` is reported, at 0 when nothing is queued, so an alert on
    the oldest age sees a series that exists and falls back to 0 rather than one that vanishes.
    """

    def __init__(self, connection: Connection, partitions: int) -> None:
        self.connection = connection
        self.partitions = partitions

    def collect(self) -> Iterator[Metric]:
        connection = self.connection
        queued = GaugeMetricFamily(
            "wallet_queued_transactions", "Transactions queued, by partition", labels=["partition"]
        )
        oldest = GaugeMetricFamily(
            "wallet_oldest_queued_age_seconds",
            "Age of the oldest queued transaction, by partition (0 when none is queued)",
            labels=["partition"],
        )
        rows = {partition: (count, age) for partition, count, age in connection.execute(QUEUE)}
        for partition in sorted(set(range(self.partitions)) | set(rows)):
            count, age = rows.get(partition, (0, 0.0))
            queued.add_metric([str(partition)], count)
            oldest.add_metric([str(partition)], max(0.0, float(age)))
        pending, given_up = connection.execute(DELIVERIES).one()
        yield queued
        yield oldest
        yield GaugeMetricFamily("wallet_webhook_deliveries_pending", "Webhook deliveries still to be sent", pending)
        yield GaugeMetricFamily(
            "wallet_webhook_deliveries_given_up", "Webhook deliveries given up (failed for good)", given_up
        )


def render(ledger_state: LedgerState, multiprocess_dir: str) -> bytes:
    """The text exposition (format 0.0.4) of this API's own metrics and the ledger's state.

    With ``multiprocess_dir`` (gunicorn), the API's metrics are the sum of every worker's files;
    without it (one process: the Flask test client, ``create_app`` in a script), this process's
    default registry.
    """
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir:
        MultiProcessCollector(registry, multiprocess_dir)
    else:
        registry.register(REGISTRY)
    registry.register(ledger_state)
    return generate_latest(registry)
