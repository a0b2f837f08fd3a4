"""Prometheus metrics: what each process records, and the ledger's state read at scrape time.

One module per kind of process that moves them: ``api`` (gunicorn workers, summed across them
through prometheus-client's multiprocess mode), ``engine`` (a ledger worker's pool process),
``webhooks`` (the webhooks worker). Every Celery worker imports both task modules, so each
exposes both families; the other kind's stay at 0. ``scrape`` holds
what is read from PostgreSQL when Prometheus asks, never counted by a process that may restart.
"""
