"""Alembic environment: migrations run online against DATABASE_URL, one transaction each."""

from alembic import context
from sqlalchemy import create_engine

import settings

url = context.config.attributes.get("database_url", settings.DATABASE_URL)
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
