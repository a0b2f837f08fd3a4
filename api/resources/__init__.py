"""One folder per resource: ``routes.py`` (the blueprint) and ``schemas.py`` (what it reads and answers)."""
