"""gunicorn settings, from settings.py like everything else.

gthread workers: a request held open by ``Prefer: wait`` sleeps in one thread while the other
threads keep answering. The app is not preloaded, so each worker opens its own connection pool
after the fork.
"""

import logging
from pathlib import Path

from gunicorn import glogging
from prometheus_client import multiprocess

import settings
from observability.logs import logging_config

bind = f"{settings.API_HOST}:{settings.API_PORT}"
worker_class = "gthread"
workers = settings.API_WORKERS
threads = settings.API_THREADS
# Access log off by default: at thousands of requests per second it costs more than it tells.
accesslog = "-" if settings.API_ACCESS_LOG else None
errorlog = "-"
# gunicorn's lines and the app's through one handler, in LOG_FORMAT (observability.logs); an access
# line names the request id the app sent back.
logconfig_dict = logging_config(settings.LOG_FORMAT, settings.LOG_LEVEL)
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
# No gunicornc control socket: its default path is per user, not per instance, so a second gunicorn
# on the machine (the bench next to `make dev`) would take over the first one's socket.
control_socket_disable = True
# Header lines up to 16 KiB reach the app, which refuses what it does not want (a 10,000-character
# Idempotency-Key) as problem+json; gunicorn's 8 KiB default would answer 431 before the app saw it.
# What gunicorn still refuses itself (docs/api.md) is answered as problem+json by gunicorn_problems.
limit_request_field_size = 16 * 1024
# The longest request line gunicorn allows (the default is 4094).
limit_request_line = 8190


class Logger(glogging.Logger):
    """gunicorn's logger, building access lines only when they are wanted.

    With ``logconfig_dict`` set, gunicorn builds every request's access line (13 µs) even when its
    logger then drops it; ``accesslog`` is what says whether anyone reads them.
    """

    def access(self, resp, req, environ, request_time) -> None:
        if self.cfg.accesslog is not None:
            super().access(resp, req, environ, request_time)


logger_class = Logger


def on_starting(server) -> None:
    """Warnings as log lines, and the metrics of this run started from nothing.

    Printed, a warning is several lines of text; as a log line it has LOG_FORMAT's shape, and the
    workers inherit it. Metrics files a previous run left would be summed into this run's.
    """
    logging.captureWarnings(True)
    directory = settings.PROMETHEUS_MULTIPROC_DIR
    if not directory:
        if workers > 1:
            server.log.warning("PROMETHEUS_MULTIPROC_DIR is not set: each /metrics answer counts one worker only")
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    # Only prometheus-client's own files: the variable may name a directory that holds more.
    for stale in path.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    """A dead worker's gauges leave the sum (its counters and histograms stay, as Prometheus expects)."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiprocess.mark_process_dead(worker.pid, settings.PROMETHEUS_MULTIPROC_DIR)


def post_worker_init(worker) -> None:
    # Imported here, in the worker once it has loaded the app: the arbiter imports no app code.
    from api import gunicorn_problems

    gunicorn_problems.install()
