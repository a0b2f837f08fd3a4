"""Transactions: poll one, and list them."""
