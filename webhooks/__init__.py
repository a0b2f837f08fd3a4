"""Notifications about money: the outbox, registered endpoints, delivery state, signing, transport.

Depends on ``ledger`` (the transactions it reports on), never the other way round: the posting
engine is handed ``webhooks.outbox.record_events`` as the hook it calls inside each batch's
database transaction. No Flask and no Celery here; ``workers.webhooks`` runs delivery as tasks.
"""
