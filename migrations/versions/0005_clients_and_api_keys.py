"""Clients and API keys: every wallet, transaction and webhook endpoint belongs to a client.

- ``clients``: who calls the API. ``platform`` owns the ledger's own wallets (``world``, the seed's
  two providers), which every client may use as providers; ``default`` owns everything accepted
  before clients existed, so an existing database upgrades and loses nothing.
- ``api_keys``: stored as the SHA-256 of the key and its public prefix, never the key itself, with
  its scopes and an optional rate limit. A revoked key keeps its row (who had access, when).
- ``user_id`` is unique per client, not overall: two clients may each open ``alice``. The
  platform's names are reserved for it, so a name a client uses means one wallet, its own or the
  platform's provider.
- ``accept_transactions``: resolve the client's wallets (its own, and the platform's providers)
  and check their roles, insert, settle idempotency replays, and answer the JSON of every
  transaction, in one round trip (docs/architecture.md, "Accept"). A single request first tries
  one prepared INSERT (ledger.accept), and comes here only when that inserted nothing (an error to
  name, or a replay).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op

from migrations.earlier import edited, excerpt

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCOPES = "'wallets:read', 'wallets:write', 'transactions:read', 'transactions:write', 'webhooks:manage', 'metrics:read'"

SCHEMA = rf"""
CREATE TABLE clients (
    id         text        PRIMARY KEY CONSTRAINT clients_id_format CHECK (id ~ '^[a-z0-9][a-z0-9._-]{{0,62}}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO clients (id) VALUES ('platform'), ('default');

CREATE TABLE api_keys (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id  text        NOT NULL REFERENCES clients (id),
    -- The key's public start (wk_ and 8 characters): how people and logs tell keys apart.
    prefix     text        NOT NULL UNIQUE CONSTRAINT api_keys_prefix_format CHECK (prefix ~ '^wk_[a-z0-9]{{8}}$'),
    -- SHA-256 of the whole key, hex. The key has 256 random bits: a slow hash would add nothing.
    hash       text        NOT NULL CONSTRAINT api_keys_hash_format CHECK (hash ~ '^[0-9a-f]{{64}}$'),
    scopes     text[]      NOT NULL
               CONSTRAINT api_keys_scopes_known CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY[{SCOPES}]),
    -- n/second, n/minute or n/hour; NULL: the server's default (API_RATE_LIMIT).
    rate_limit text        CONSTRAINT api_keys_rate_limit_format
               CHECK (rate_limit ~ '^[1-9][0-9]{{0,8}}/(second|minute|hour)$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

ALTER TABLE wallets ADD COLUMN client_id text REFERENCES clients (id);
UPDATE wallets SET client_id = CASE
    WHEN acnt_type = 'system' OR user_id IN ('deposit-provider-master', 'withdraw-provider-master') THEN 'platform'
    ELSE 'default' END;
ALTER TABLE wallets ALTER COLUMN client_id SET NOT NULL,
    DROP CONSTRAINT wallets_user_id_key,
    ADD CONSTRAINT wallets_client_user_id_key UNIQUE (client_id, user_id);

CREATE FUNCTION wallets_platform_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM wallets w
               WHERE w.user_id = NEW.user_id AND w.id <> NEW.id
                 AND (w.client_id = 'platform') <> (NEW.client_id = 'platform')) THEN
        RAISE EXCEPTION 'wallets_platform_names: % is the platform''s name, or a client''s', NEW.user_id
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'wallets_platform_names';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER wallets_platform_names
    BEFORE INSERT OR UPDATE OF user_id, client_id ON wallets
    FOR EACH ROW EXECUTE FUNCTION wallets_platform_names();

-- The platform posted the opening balances. transactions_decided_final forbids changing a
-- transaction's client, which is the point of it: stood aside for this one correction.
ALTER TABLE transactions DISABLE TRIGGER transactions_decided_final;
UPDATE transactions SET client_id = 'platform' WHERE type = 'opening';
ALTER TABLE transactions ENABLE TRIGGER transactions_decided_final;
ALTER TABLE transactions ALTER COLUMN client_id DROP DEFAULT,
    ADD CONSTRAINT transactions_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id);
-- A client's own list of transactions, newest first.
CREATE INDEX transactions_client ON transactions (client_id, seq);

ALTER TABLE webhook_endpoints ADD COLUMN client_id text REFERENCES clients (id);
UPDATE webhook_endpoints SET client_id = 'default';
ALTER TABLE webhook_endpoints ALTER COLUMN client_id SET NOT NULL;
CREATE INDEX webhook_endpoints_client ON webhook_endpoints (client_id);

"""


# accept_transactions per client: the wallets it may name go in at <wallets> (CLIENT_WALLETS), or
# nothing, which is 0004's function again (its comments aside).
ACCEPT = edited(
    excerpt("0004_queue_and_set_based_rules", "-- Errors carry a SQLSTATE of class WL"),
    [
        (
            "-- Errors carry",
            "\n-- Accept, now per client ------------------------------------------------------------------------"
            "\n-- Errors carry",
        ),
        (
            """    -- The wallets first, through the user_id index (json_to_recordset looks like 100 rows to the
    -- planner, which would rather scan every wallet than probe the index once or twice).""",
            """    -- The wallets first, through their index (json_to_recordset looks like 100 rows to the
    -- planner, which would rather scan every wallet than probe the index once or twice): the
    -- client's own, and the platform's providers (its names are reserved, so a name is one wallet).""",
        ),
        ("WHERE w.acnt_type <> 'system' AND w.user_id", "WHERE w.acnt_type <> 'system' AND <wallets> w.user_id"),
    ],
)

DOWNGRADE = """
DROP INDEX webhook_endpoints_client;
ALTER TABLE webhook_endpoints DROP COLUMN client_id;
DROP INDEX transactions_client;
ALTER TABLE transactions DROP CONSTRAINT transactions_client_id_fkey, ALTER COLUMN client_id SET DEFAULT 'default';
ALTER TABLE transactions DISABLE TRIGGER transactions_decided_final;
UPDATE transactions SET client_id = 'default' WHERE client_id <> 'default';
ALTER TABLE transactions ENABLE TRIGGER transactions_decided_final;
DROP TRIGGER wallets_platform_names ON wallets;
DROP FUNCTION wallets_platform_names();
ALTER TABLE wallets DROP CONSTRAINT wallets_client_user_id_key, ADD CONSTRAINT wallets_user_id_key UNIQUE (user_id),
    DROP COLUMN client_id;
DROP TABLE api_keys;
DROP TABLE clients;
"""


# The wallets a request may name: the client's own and the platform's (before: any wallet).
CLIENT_WALLETS = "w.client_id IN (client, 'platform') AND"


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(ACCEPT.replace("<wallets>", CLIENT_WALLETS))


def downgrade() -> None:
    op.execute(ACCEPT.replace("<wallets>", ""))
    op.execute(DOWNGRADE)
