"""What the webhooks worker records: each delivery attempt's outcome.

The rows still pending and those given up are the database's to say (``scrape``), not a count a
restarted worker would lose.
"""

from prometheus_client import Counter

DELIVERIES = Counter(
    "wallet_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, retry (failed, will be retried), failed (given up), "
    "skipped (the claim was no longer this task's)",
    ["outcome"],
)
