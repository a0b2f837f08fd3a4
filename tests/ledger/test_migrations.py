"""Migrations on a database with data in it: upgrading loses nothing, and every step goes back down."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, make_url, text

from devtools.databases import create_database, drop_database
from ledger.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
# One keyed deposit to alice, as ledger.accept hands it to accept_transactions.
DEPOSIT = (
    '[{"n": 1, "type": "deposit", "debit_user_id": "deposit-provider-master", "credit_user_id": "alice",'
    ' "amount": 5, "partition": 3, "idempotency_key": "k1", "request_hash": "h",'
    ' "debit_role": "provider", "credit_role": "user", "currency_from_credit": true}]'
)


@pytest.fixture
def scratch(database_url: str) -> Iterator[tuple[Config, Engine]]:
    """An empty database of its own next to the test database, and an Alembic config aimed at it."""
    url = make_url(database_url)
    url = url.set(database=f"{url.database}_migrations").render_as_string(hide_password=False)
    drop_database(url)
    create_database(url)
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    engine = make_engine(url)
    try:
        yield config, engine
    finally:
        engine.dispose()
        drop_database(url)


def test_rows_from_before_clients_belong_to_the_default_client(scratch) -> None:
    config, engine = scratch
    command.upgrade(config, "0004")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO wallets (user_id, acnt_type) VALUES ('alice', 'user')"))
        conn.execute(
            text(
                "SELECT * FROM accept_transactions('default', CAST(:items AS json))"
                " UNION ALL SELECT * FROM accept_transactions('default', CAST(:items AS json))"
            ),
            {"items": DEPOSIT},
        )
        before = conn.execute(text("SELECT id, status, amount FROM transactions ORDER BY seq")).all()

    command.upgrade(config, "head")

    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, status, amount FROM transactions ORDER BY seq")).all() == before
        owners = conn.execute(text("SELECT user_id, client_id FROM wallets ORDER BY id")).all()
        assert owners == [
            ("world", "platform"),
            ("deposit-provider-master", "platform"),
            ("withdraw-provider-master", "platform"),
            ("alice", "default"),
            ("holding:USD", "platform"),
        ]
        clients = conn.execute(text("SELECT type, client_id FROM transactions ORDER BY seq")).all()
        assert clients == [("opening", "platform"), ("deposit", "default")]
        # The same key from the default client is still a replay of the same transaction.
        replay = conn.execute(
            text("SELECT replayed FROM accept_transactions('default', CAST(:items AS json))"),
            {"items": DEPOSIT},
        ).scalar_one()
        assert replay is True


def test_every_migration_goes_down_and_up_again(scratch) -> None:
    config, engine = scratch
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
    assert tables == ["alembic_version"]
    command.upgrade(config, "head")
    with engine.connect() as conn:
        # world, the two providers, and the holding account of USD.
        assert conn.execute(text("SELECT count(*) FROM wallets")).scalar_one() == 4
