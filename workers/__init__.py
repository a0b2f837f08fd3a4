"""Celery side of the wallet: wake-ups, partition drains, the sweeper (and webhook delivery)."""
