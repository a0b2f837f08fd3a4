"""The synchronous design this project replaces, as the yardstick of single requests.

What the Go service did for each request: lock the debit row, lock the credit row, update both,
write two history rows, commit, answer. A minimal Flask + psycopg2 app on the same gunicorn settings
as the API, with its own tables in the bench's database.
"""
