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

ACCEPT = r"""
-- Accept, now per client ------------------------------------------------------------------------
-- Errors carry a SQLSTATE of class WL, which the ledger maps to its own errors (ledger.accept):
-- WL404 no such wallet (DETAIL: its user_id), WL400 a wallet in the wrong role (DETAIL: the code),
-- WL409 an idempotency key reused for another request (DETAIL: the key).
CREATE OR REPLACE FUNCTION accept_transactions(client text, items json)
RETURNS TABLE (id uuid, status text, partition smallint, replayed boolean, body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    requests accepting[];
    added transactions[];
    problem record;
    conflict text;
BEGIN
    -- The wallets first, through their index (json_to_recordset looks like 100 rows to the
    -- planner, which would rather scan every wallet than probe the index once or twice): the
    -- client's own, and the platform's providers (its names are reserved, so a name is one wallet).
    WITH named AS MATERIALIZED (
        SELECT w.id, w.user_id, w.acnt_type, w.currency FROM wallets w
        WHERE w.acnt_type <> 'system' AND <wallets> w.user_id = ANY(ARRAY(
            SELECT e ->> side FROM json_array_elements(items) AS e,
                   unnest('{debit_user_id,credit_user_id}'::text[]) AS side)))
    SELECT array_agg(ROW(i.*, gen_random_uuid(), d.id, d.acnt_type, c.id, c.acnt_type,
                         CASE WHEN i.currency_from_credit THEN c.currency ELSE d.currency END)::accepting ORDER BY i.n)
    INTO requests
    FROM json_to_recordset(items) AS i(
        n int, type text, debit_user_id text, credit_user_id text, amount bigint, currency text,
        partition smallint, idempotency_key text, request_hash text, metadata jsonb, callback_url text,
        debit_role text, credit_role text, currency_from_credit boolean)
    LEFT JOIN named d ON d.user_id = i.debit_user_id
    LEFT JOIN named c ON c.user_id = i.credit_user_id;

    -- Every missing wallet before any miscast one, as the errors have always been reported.
    SELECT r.type,
           CASE WHEN r.debit_wallet_id IS NULL THEN r.debit_user_id
                WHEN r.credit_wallet_id IS NULL THEN r.credit_user_id END AS missing,
           CASE WHEN r.debit_type <> r.debit_role THEN r.debit_user_id ELSE r.credit_user_id END AS miscast,
           CASE WHEN r.debit_type <> r.debit_role THEN r.debit_role ELSE r.credit_role END AS role
    INTO problem
    FROM unnest(requests) AS r
    WHERE r.debit_wallet_id IS NULL OR r.credit_wallet_id IS NULL
       OR r.debit_type <> r.debit_role OR r.credit_type <> r.credit_role
    ORDER BY r.debit_wallet_id IS NOT NULL AND r.credit_wallet_id IS NOT NULL, r.n LIMIT 1;
    IF FOUND THEN
        IF problem.missing IS NOT NULL THEN
            RAISE EXCEPTION 'no wallet with user_id %', quote_literal(problem.missing)
                USING ERRCODE = 'WL404', DETAIL = problem.missing;
        END IF;
        RAISE EXCEPTION '%: % is not a % wallet', problem.type, quote_literal(problem.miscast), problem.role
            USING ERRCODE = 'WL400', DETAIL = 'not_a_' || problem.role || '_wallet';
    END IF;

    WITH inserted AS (
        INSERT INTO transactions (id, type, amount, currency, debit_wallet_id, credit_wallet_id, partition,
                                  client_id, idempotency_key, request_hash, metadata, callback_url)
        SELECT r.id, r.type, r.amount, coalesce(r.currency, r.customer_currency), r.debit_wallet_id,
               r.credit_wallet_id, r.partition, client, r.idempotency_key, r.request_hash, r.metadata, r.callback_url
        FROM unnest(requests) AS r ORDER BY r.n
        ON CONFLICT (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING *)
    SELECT array_agg(ROW(t.*)::transactions) INTO added FROM inserted AS t;

    IF coalesce(cardinality(added), 0) < cardinality(requests) THEN
        -- A key already taken: the original answers if the request is the same, else it is a conflict.
        -- A concurrent first use of the key has committed by now (the insert above waited for it).
        SELECT coalesce(added, '{}') || array_agg(ROW(t.*)::transactions),
               min(r.idempotency_key) FILTER (WHERE t.request_hash IS DISTINCT FROM r.request_hash)
        INTO added, conflict
        FROM unnest(requests) AS r
        JOIN transactions t ON t.client_id = client AND t.idempotency_key = r.idempotency_key
        WHERE t.id <> r.id AND NOT EXISTS (SELECT 1 FROM unnest(added) AS a WHERE a.id = r.id);
        IF conflict IS NOT NULL THEN
            RAISE EXCEPTION 'Idempotency-Key % was already used for a different request', quote_literal(conflict)
                USING ERRCODE = 'WL409', DETAIL = conflict;
        END IF;
    END IF;

    -- From the rows in hand: no table is read again to answer. A request meets its row by key, or
    -- by id when it has no key (the original of a replay has another id but the same key).
    RETURN QUERY
    SELECT t.id, t.status, t.partition, t.id <> r.id, transaction_json(t, r.debit_user_id, r.credit_user_id)::text
    FROM unnest(requests) AS r
    JOIN unnest(added) AS t ON coalesce(t.idempotency_key, t.id::text) = coalesce(r.idempotency_key, r.id::text)
    ORDER BY r.n;
END;
$$;
"""

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
