"""Plans that stay right as the ledger grows, and no row locks on hot wallets: the same rules,
checked per statement through indexes.

- ``entries_inserted`` (migration 0004) checks that the transactions and wallets an INSERT's
  entries name exist. PL/pgSQL plans that check once per session and keeps the plan: planned on a
  1,000-row batch, it hashes the whole ``transactions`` table, and keeps doing so for every later
  batch of a handful of rows (5 ms a batch at 20,000 transactions, growing with the table). Each
  name is now looked up through its primary key (a LATERAL probe the planner cannot turn into a
  hash join), so a batch costs what its rows cost, whatever the size of the tables.
- ``wallets_platform_names`` (migration 0005) looks for other wallets of the same ``user_id``; since
  ``user_id`` is unique per client only, no index led with it, and each new wallet read them all
  (opening 10,000 wallets in one statement took 4.4 s). ``wallets_user_id`` indexes it.
- A transaction's three foreign keys (its two wallets, its client) become one check per INSERT
  statement, in the trigger that already queues the new rows, and a stronger one: both wallets
  exist and are the transaction's client's own or the platform's (a platform transaction, an
  opening balance, may name any wallet), and the client exists. A foreign key locks the row it
  names (FOR KEY SHARE) for every insert: every accepted deposit locked the deposit provider's row,
  so concurrent accepts shared that lock through a MultiXact, rewritten by each of them, and each
  row of a 1,000-item batch paid three such checks (13 ms of its 34 ms INSERT). The check is as
  strong: wallets can be neither deleted nor renumbered (migration 0004), and now clients neither;
  a transaction's wallets and client never change (``transactions_decided_final``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from alembic import op

from migrations.earlier import edited, excerpt

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TRANSACTIONS_INSERTED = r"""
CREATE OR REPLACE FUNCTION transactions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offender record;
BEGIN
    SELECT i.id, i.client_id, d.client_id AS debit_client, c.client_id AS credit_client, k.found AS client_found
    INTO offender
    FROM inserted i
    LEFT JOIN LATERAL (SELECT w.client_id FROM wallets w WHERE w.id = i.debit_wallet_id LIMIT 1) d ON true
    LEFT JOIN LATERAL (SELECT w.client_id FROM wallets w WHERE w.id = i.credit_wallet_id LIMIT 1) c ON true
    LEFT JOIN LATERAL (SELECT true AS found FROM clients k WHERE k.id = i.client_id LIMIT 1) k ON true
    WHERE k.found IS NULL OR d.client_id IS NULL OR c.client_id IS NULL
       OR (i.client_id <> 'platform'
           AND (d.client_id NOT IN (i.client_id, 'platform') OR c.client_id NOT IN (i.client_id, 'platform')))
    LIMIT 1;
    IF FOUND THEN
        IF offender.client_found IS NULL THEN
            RAISE EXCEPTION 'transactions_client_exists: transaction % names client %, which does not exist',
                offender.id, offender.client_id
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transactions_client_exists';
        END IF;
        IF offender.debit_client IS NULL OR offender.credit_client IS NULL THEN
            RAISE EXCEPTION 'transactions_wallets_exist: transaction % names a wallet that does not exist', offender.id
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transactions_wallets_exist';
        END IF;
        RAISE EXCEPTION 'transactions_wallets_of_client: transaction % of client % names a wallet of another client',
            offender.id, offender.client_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transactions_wallets_of_client';
    END IF;
    INSERT INTO transaction_queue
    SELECT partition, seq, id, type, amount, currency, debit_wallet_id, credit_wallet_id, created_at
    FROM inserted WHERE status = 'queued';
    RETURN NULL;
END;
$$;
"""
# What the existing rows must already satisfy before the foreign keys go.
EXISTING_ROWS = r"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM transactions t JOIN wallets d ON d.id = t.debit_wallet_id
               JOIN wallets c ON c.id = t.credit_wallet_id
               WHERE t.client_id <> 'platform' AND (d.client_id NOT IN (t.client_id, 'platform')
                                                    OR c.client_id NOT IN (t.client_id, 'platform'))) THEN
        RAISE EXCEPTION 'a transaction names a wallet of another client: resolve it before this migration';
    END IF;
END;
$$;
"""
KEYS = r"""
ALTER TABLE transactions DROP CONSTRAINT transactions_debit_wallet_id_fkey,
    DROP CONSTRAINT transactions_credit_wallet_id_fkey, DROP CONSTRAINT transactions_client_id_fkey;
CREATE TRIGGER clients_kept
    BEFORE DELETE OR UPDATE OF id ON clients FOR EACH ROW
    EXECUTE FUNCTION refuse('clients are never deleted, and a client''s id never changes');
CREATE TRIGGER clients_not_truncated
    BEFORE TRUNCATE ON clients EXECUTE FUNCTION refuse('clients are never deleted');
"""
KEYS_0005 = r"""
DROP TRIGGER clients_not_truncated ON clients;
DROP TRIGGER clients_kept ON clients;
ALTER TABLE transactions
    ADD CONSTRAINT transactions_debit_wallet_id_fkey FOREIGN KEY (debit_wallet_id) REFERENCES wallets (id),
    ADD CONSTRAINT transactions_credit_wallet_id_fkey FOREIGN KEY (credit_wallet_id) REFERENCES wallets (id),
    ADD CONSTRAINT transactions_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id);
"""
# One primary-key probe per name: LIMIT keeps the subquery apart, so it cannot become a hash join.
PROBE = "LEFT JOIN LATERAL (SELECT 1 AS found FROM {table} x WHERE x.id = i.{column} LIMIT 1) p ON true\n"
PROBE += "    WHERE p.found IS NULL LIMIT 1;"
# Migration 0004's existence checks (the planner's choice, made once per session), each made a probe.
PROBES = [
    (
        "WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = i.transaction_id) LIMIT 1;",
        PROBE.format(table="transactions", column="transaction_id"),
    ),
    (
        "WHERE NOT EXISTS (SELECT 1 FROM wallets w WHERE w.id = i.wallet_id) LIMIT 1;",
        PROBE.format(table="wallets", column="wallet_id"),
    ),
]


def _entries_inserted_0004() -> str:
    return excerpt("0004_queue_and_set_based_rules", "CREATE FUNCTION entries_inserted", "CREATE TRIGGER")


def _transactions_inserted_0004() -> str:
    """Migration 0004's: the queue only (the foreign keys checked the rest)."""
    return excerpt("0004_queue_and_set_based_rules", "CREATE FUNCTION transactions_inserted", "CREATE TRIGGER")


def upgrade() -> None:
    op.execute(edited(_entries_inserted_0004(), PROBES))
    op.execute("CREATE INDEX wallets_user_id ON wallets (user_id)")
    op.execute(EXISTING_ROWS)
    op.execute(TRANSACTIONS_INSERTED)
    op.execute(KEYS)


def downgrade() -> None:
    op.execute(KEYS_0005)
    op.execute(_transactions_inserted_0004())
    op.execute("DROP INDEX wallets_user_id")
    op.execute(_entries_inserted_0004())
