"""Each Celery worker serves its own ``/metrics``: one scrape target per worker, as Prometheus users
expect of Celery workers (docs/deploy.md, "Metrics").

It is served by the process that records: a ledger worker's prefork pool child (concurrency 1,
where every batch is applied), or the main process of a threads pool (the webhooks worker). A
child replaced after a crash serves again on the same port, its counters from zero, which
``rate()`` reads as a counter reset. Loaded by every worker through ``CELERY_CONFIG["imports"]``.
"""

import logging

from celery.concurrency.prefork import TaskPool as PreforkPool
from celery.signals import worker_process_init, worker_ready
from celery.worker.consumer import Consumer
from prometheus_client import start_http_server

import settings

log = logging.getLogger(__name__)


def serve() -> None:
    """Serve this process's registry on WORKER_METRICS_PORT; none when it is 0. Never stops the worker."""
    port = settings.WORKER_METRICS_PORT
    if not port:
        return
    try:
        start_http_server(port, settings.WORKER_METRICS_ADDRESS)
    except OSError:
        # Metrics are never worth a worker that does not apply: say so and carry on.
        log.warning("worker metrics: cannot listen on %s:%s", settings.WORKER_METRICS_ADDRESS, port, exc_info=True)
        return
    log.info("worker metrics at http://%s:%s/metrics", settings.WORKER_METRICS_ADDRESS, port)


@worker_process_init.connect
def serve_from_pool_process(**_) -> None:
    serve()


@worker_ready.connect
def serve_from_main_process(sender: Consumer, **_) -> None:
    # A prefork pool's children record and serve (above); any other pool records in this process.
    if not isinstance(sender.pool, PreforkPool):
        serve()
