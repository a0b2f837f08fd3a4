"""Prometheus metrics: what each process records, and the ledger's state read at scrape time.

One module per kind of process, so a process defines (and exposes) only the metrics it moves:
``api`` (gunicorn workers, summed across them through prometheus-client's multiprocess mode),
``engine`` (a ledger worker's pool process), ``webhooks`` (the webhooks worker). ``scrape`` holds
what is read from PostgreSQL when Prometheus asks, never counted by a process that may restart.
"""
