"""The platform's holding account of a currency opened by the database with the first wallet of it.

Until now ``ledger.accept.create_wallet`` opened it, one more statement before every wallet it made,
and a wallet inserted any other way (a bulk load, a script) could bring in a currency with no
holding account: the first hold in it would then find nowhere to wait. A statement trigger now
opens the missing holding accounts of whatever an INSERT brings in, however it was written, once
per statement (a load of 10,000 wallets looks its currencies up once).

The trigger's own INSERT fires it again, as every INSERT does, even of no rows; that firing sees
only holding accounts and inserts nothing, which ends it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE FUNCTION wallets_open_holding() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM new_wallets WHERE acnt_type <> 'holding') THEN
        INSERT INTO wallets (client_id, user_id, acnt_type, currency)
        SELECT DISTINCT 'platform', 'holding:' || n.currency, 'holding', n.currency
        FROM new_wallets n
        WHERE n.acnt_type <> 'holding'
        ON CONFLICT (client_id, user_id) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER wallets_open_holding AFTER INSERT ON wallets
    REFERENCING NEW TABLE AS new_wallets
    FOR EACH STATEMENT EXECUTE FUNCTION wallets_open_holding();
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute("DROP TRIGGER wallets_open_holding ON wallets; DROP FUNCTION wallets_open_holding()")
