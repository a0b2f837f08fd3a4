"""The wallet ledger: double-entry money in PostgreSQL, with no web or queue framework inside."""
