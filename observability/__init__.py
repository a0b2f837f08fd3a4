"""What the people running the system see of it: JSON logs that follow one request, and metrics.

Shared by the API and the workers; it reads the ledger, never writes it.
"""
