"""Alembic environment: migrations run online against DATABASE_URL, one transaction each."""

from alembic import context

import settings
from ledger.db import make_engine

url = context.config.attributes.get("database_url", settings.DATABASE_URL)
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
