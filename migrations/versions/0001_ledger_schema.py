"""Ledger schema: wallets, transactions, entries, with the money rules enforced by PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = r"""
CREATE TABLE wallets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     text        NOT NULL UNIQUE
                CONSTRAINT wallets_user_id_format CHECK (user_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
    acnt_type   text        NOT NULL
                CONSTRAINT wallets_acnt_type_known CHECK (acnt_type IN ('user', 'provider', 'system')),
    currency    char(3)     NOT NULL DEFAULT 'USD'
                CONSTRAINT wallets_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    status      text        NOT NULL DEFAULT 'active'
                CONSTRAINT wallets_status_known CHECK (status IN ('active', 'inactive', 'suspended')),
    balance     bigint      NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wallets_balance_not_negative CHECK (balance >= 0 OR acnt_type = 'system')
) WITH (fillfactor = 50);
-- Half-empty pages let every balance update stay on its page (a HOT update, no index writes):
-- balances are rewritten on every batch, the wallet rows are few.

CREATE TABLE transactions (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    seq              bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    type             text        NOT NULL
                     CONSTRAINT transactions_type_known
                     CHECK (type IN ('deposit', 'withdraw', 'transfer', 'opening')),
    status           text        NOT NULL DEFAULT 'queued'
                     CONSTRAINT transactions_status_known CHECK (status IN ('queued', 'applied', 'rejected')),
    amount           bigint      NOT NULL
                     CONSTRAINT transactions_amount_positive CHECK (amount > 0 AND amount <= 1000000000000000),
    currency         char(3)     NOT NULL CONSTRAINT transactions_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    debit_wallet_id  bigint      NOT NULL REFERENCES wallets (id),
    credit_wallet_id bigint      NOT NULL REFERENCES wallets (id),
    partition        smallint    NOT NULL CONSTRAINT transactions_partition_range CHECK (partition >= 0),
    client_id        text        NOT NULL DEFAULT 'default',
    idempotency_key  text        CONSTRAINT transactions_idempotency_key_length
                     CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    request_hash     text,
    metadata         jsonb,
    callback_url     text,
    failure_code     text
                     CONSTRAINT transactions_failure_code_known CHECK (failure_code IN
                     ('insufficient_funds', 'wallet_inactive', 'currency_mismatch', 'wallet_not_found')),
    failure_message  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    decided_at       timestamptz,
    CONSTRAINT transactions_distinct_wallets CHECK (debit_wallet_id <> credit_wallet_id),
    CONSTRAINT transactions_decided_when_final CHECK ((status = 'queued') = (decided_at IS NULL)),
    CONSTRAINT transactions_failure_iff_rejected CHECK ((status = 'rejected') = (failure_code IS NOT NULL)),
    CONSTRAINT transactions_idempotency_hashed CHECK (idempotency_key IS NULL OR request_hash IS NOT NULL)
);

CREATE UNIQUE INDEX transactions_idempotency ON transactions (client_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- The worker's question, "the queued rows of partition p in seq order", answered by a small index.
CREATE INDEX transactions_queued ON transactions (partition, seq) WHERE status = 'queued';
CREATE INDEX transactions_debit_wallet ON transactions (debit_wallet_id, seq);
CREATE INDEX transactions_credit_wallet ON transactions (credit_wallet_id, seq);

CREATE TABLE entries (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid        NOT NULL REFERENCES transactions (id),
    wallet_id      bigint      NOT NULL REFERENCES wallets (id),
    amount         bigint      NOT NULL CONSTRAINT entries_amount_nonzero CHECK (amount <> 0),
    balance_after  bigint      NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX entries_transaction ON entries (transaction_id);
CREATE INDEX entries_wallet ON entries (wallet_id, id);

-- Double entry, checked by the database at COMMIT: every transaction's entries sum to zero.
-- Deferred, so the debit and the credit can be inserted one after the other.
CREATE FUNCTION entries_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total numeric;
BEGIN
    SELECT sum(amount) INTO total FROM entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'entries of transaction % sum to %, not 0', NEW.transaction_id, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entries_balanced';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER entries_balanced
    AFTER INSERT ON entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION entries_check_balanced();

-- Entries are the audit trail: a correction is a new transaction, never an edit.
CREATE FUNCTION entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER entries_append_only
    BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_append_only();
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(
        "DROP TABLE entries; DROP TABLE transactions; DROP TABLE wallets;"
        " DROP FUNCTION entries_check_balanced(); DROP FUNCTION entries_append_only();"
    )
