"""Transactions: poll one, list them, and accept many in one request (POST /transactions/batch)."""
