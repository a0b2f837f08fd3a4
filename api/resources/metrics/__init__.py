"""Prometheus scrape (GET /metrics): the API's own metrics and the ledger's state, for a metrics:read key."""
