"""Liveness (GET /health) and readiness (GET /ready: PostgreSQL, Redis, a ledger worker)."""
