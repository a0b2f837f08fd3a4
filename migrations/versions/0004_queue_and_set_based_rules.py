"""A queue apart from the record, set-based entry rules, and the accept path as one call.

- ``transaction_queue``: the queued transactions of each partition in ``seq`` order, kept by
  PostgreSQL itself (a row appears when a queued transaction is inserted and goes when its status
  leaves ``queued``). The partial index ``transactions_queued`` goes, so a status change touches no
  index of ``transactions`` and is a HOT update (``fillfactor`` leaves each page room for it).
- Decided is final: a transaction's identity, amounts, wallets and partition never change, and once
  applied or rejected its status, failure and ``decided_at`` never change again.
- ``entries``: the zero-sum rule is checked once per INSERT statement instead of once per row at
  COMMIT, and the two foreign keys become one set-based existence check in the same trigger. Both
  are as strong as before for every writer, a person at psql included: every INSERT must bring
  whole transactions (entries summing to zero per transaction), and wallets and transactions can
  no longer be deleted or truncated (they never were by the application), so a row that exists when
  its entry is written exists for good. Each transaction names a wallet at most once.
- The format rules of ``user_id``, currencies and idempotency keys become domains: a domain's
  check runs when a value is written into the column, not again on every UPDATE of another column
  (a CHECK constraint runs on every UPDATE, and two regular expressions per wallet were a third of
  what a batch spent rewriting balances).
- ``transaction_json`` and ``wallet_json``: the one JSON shape of each, built where the row is, so
  the API answers reads and accepts without building a Python object per row.
- ``accept_transactions``: validate wallets and roles, insert, settle idempotency replays, and
  answer the JSON of every transaction, in one round trip (docs/architecture.md, "Accept"). A
  single request first tries one prepared INSERT (ledger.accept), and comes here only when that
  inserted nothing (an error to name, or a replay).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = r"""
-- Format rules checked on write, not on every update ------------------------------------------------
-- The constraints keep the names the CHECK constraints had, so errors read the same.
CREATE DOMAIN wallet_user_id AS text
    CONSTRAINT wallets_user_id_format CHECK (VALUE ~ '^[A-Za-z0-9._:-]{1,64}$');
CREATE DOMAIN currency_code AS char(3)
    CONSTRAINT currency_iso CHECK (VALUE ~ '^[A-Z]{3}$');
CREATE DOMAIN idempotency_key AS text
    CONSTRAINT idempotency_key_length CHECK (char_length(VALUE) BETWEEN 1 AND 255);
ALTER TABLE wallets DROP CONSTRAINT wallets_user_id_format, DROP CONSTRAINT wallets_currency_iso,
    ALTER COLUMN user_id TYPE wallet_user_id, ALTER COLUMN currency TYPE currency_code;
ALTER TABLE transactions DROP CONSTRAINT transactions_currency_iso,
    DROP CONSTRAINT transactions_idempotency_key_length,
    ALTER COLUMN currency TYPE currency_code, ALTER COLUMN idempotency_key TYPE idempotency_key;

-- The queue ------------------------------------------------------------------------------------
-- What the engine needs of each queued transaction travels with it, so a batch reads the queue
-- alone, in index order.
CREATE TABLE transaction_queue (
    partition        smallint    NOT NULL,
    seq              bigint      NOT NULL,
    transaction_id   uuid        NOT NULL,
    type             text        NOT NULL,
    amount           bigint      NOT NULL,
    currency         char(3)     NOT NULL,
    debit_wallet_id  bigint      NOT NULL,
    credit_wallet_id bigint      NOT NULL,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (partition, seq)
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000);
-- Rows live for milliseconds: vacuum it by the number of dead rows, not by its (tiny) size.

INSERT INTO transaction_queue
SELECT partition, seq, id, type, amount, currency, debit_wallet_id, credit_wallet_id, created_at
FROM transactions WHERE status = 'queued';
DROP INDEX transactions_queued;
ALTER TABLE transactions SET (fillfactor = 50);

CREATE FUNCTION transactions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO transaction_queue
    SELECT partition, seq, id, type, amount, currency, debit_wallet_id, credit_wallet_id, created_at
    FROM inserted WHERE status = 'queued';
    RETURN NULL;
END;
$$;
CREATE TRIGGER transactions_queue_inserted
    AFTER INSERT ON transactions REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION transactions_inserted();

CREATE FUNCTION transactions_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM transaction_queue q USING updated u
    WHERE u.status <> 'queued' AND q.partition = u.partition AND q.seq = u.seq;
    RETURN NULL;
END;
$$;
CREATE TRIGGER transactions_queue_decided
    AFTER UPDATE ON transactions REFERENCING NEW TABLE AS updated
    FOR EACH STATEMENT EXECUTE FUNCTION transactions_updated();

CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
-- Row triggers with a WHEN condition: the condition is evaluated without calling the function,
-- so the engine's status updates pay next to nothing for it.
CREATE TRIGGER transactions_decided_final
    BEFORE UPDATE ON transactions FOR EACH ROW
    WHEN (OLD.id <> NEW.id OR OLD.seq <> NEW.seq OR OLD.type <> NEW.type OR OLD.amount <> NEW.amount
          OR OLD.currency <> NEW.currency OR OLD.debit_wallet_id <> NEW.debit_wallet_id
          OR OLD.credit_wallet_id <> NEW.credit_wallet_id OR OLD.partition <> NEW.partition
          OR OLD.client_id <> NEW.client_id OR OLD.created_at <> NEW.created_at
          OR (OLD.status <> 'queued' AND (OLD.status, OLD.failure_code, OLD.failure_message, OLD.decided_at)
              IS DISTINCT FROM (NEW.status, NEW.failure_code, NEW.failure_message, NEW.decided_at)))
    EXECUTE FUNCTION refuse('a transaction''s request never changes, and a decided transaction stays decided');
CREATE TRIGGER transactions_kept
    BEFORE DELETE ON transactions FOR EACH ROW EXECUTE FUNCTION refuse('transactions are the record: never deleted');
CREATE TRIGGER transactions_not_truncated
    BEFORE TRUNCATE ON transactions EXECUTE FUNCTION refuse('transactions are the record: never truncated');
CREATE TRIGGER wallets_kept
    BEFORE DELETE ON wallets FOR EACH ROW EXECUTE FUNCTION refuse('wallets are never deleted (make them inactive)');
CREATE TRIGGER wallets_not_truncated
    BEFORE TRUNCATE ON wallets EXECUTE FUNCTION refuse('wallets are never deleted (make them inactive)');
CREATE TRIGGER wallets_id_fixed
    BEFORE UPDATE ON wallets FOR EACH ROW WHEN (OLD.id <> NEW.id)
    EXECUTE FUNCTION refuse('a wallet''s id never changes');
-- The queue's rows are copies the engine trusts: written by the trigger above, never edited.
CREATE TRIGGER transaction_queue_copies
    BEFORE UPDATE ON transaction_queue FOR EACH ROW
    EXECUTE FUNCTION refuse('queue rows are copies of their transactions: never edited');
CREATE TRIGGER entries_not_truncated
    BEFORE TRUNCATE ON entries EXECUTE FUNCTION refuse('entries are append-only (TRUNCATE refused)');

-- Entries: whole transactions per statement -------------------------------------------------------
DROP TRIGGER entries_balanced ON entries;
DROP FUNCTION entries_check_balanced();
ALTER TABLE entries DROP CONSTRAINT entries_transaction_id_fkey, DROP CONSTRAINT entries_wallet_id_fkey;
DROP INDEX entries_transaction;
CREATE UNIQUE INDEX entries_transaction_wallet ON entries (transaction_id, wallet_id);

CREATE FUNCTION entries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offender text;
BEGIN
    -- Every statement brings whole transactions; entries are append-only, so by induction the
    -- entries of every transaction sum to zero.
    SELECT transaction_id::text INTO offender FROM inserted GROUP BY transaction_id HAVING sum(amount) <> 0 LIMIT 1;
    IF offender IS NOT NULL THEN
        RAISE EXCEPTION 'entries_balanced: the entries of transaction % do not sum to 0', offender
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entries_balanced';
    END IF;
    SELECT i.transaction_id::text INTO offender
    FROM (SELECT DISTINCT transaction_id FROM inserted) i
    WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = i.transaction_id) LIMIT 1;
    IF offender IS NOT NULL THEN
        RAISE EXCEPTION 'entries_transaction_exists: an entry names transaction %, which does not exist', offender
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'entries_transaction_exists';
    END IF;
    SELECT i.wallet_id::text INTO offender
    FROM (SELECT DISTINCT wallet_id FROM inserted) i
    WHERE NOT EXISTS (SELECT 1 FROM wallets w WHERE w.id = i.wallet_id) LIMIT 1;
    IF offender IS NOT NULL THEN
        RAISE EXCEPTION 'entries_wallet_exists: an entry names wallet %, which does not exist', offender
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'entries_wallet_exists';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER entries_checked
    AFTER INSERT ON entries REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION entries_inserted();

-- The JSON of a transaction ------------------------------------------------------------------------
CREATE FUNCTION utc_text(moment timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- json, not jsonb: json keeps the keys in the documented order.
CREATE FUNCTION transaction_json(t transactions, from_user_id text, to_user_id text)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', t.id,
        'type', t.type,
        'status', t.status,
        'amount', t.amount,
        'currency', t.currency,
        'from_user_id', from_user_id,
        'to_user_id', to_user_id,
        'metadata', t.metadata,
        'created_at', utc_text(t.created_at),
        'applied_at', CASE WHEN t.status = 'applied' THEN utc_text(t.decided_at) END,
        'decided_at', utc_text(t.decided_at),
        'failure', CASE WHEN t.failure_code IS NOT NULL
                        THEN json_build_object('code', t.failure_code, 'message', t.failure_message) END)
$$;

CREATE FUNCTION wallet_json(w wallets) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'user_id', w.user_id,
        'acnt_type', w.acnt_type,
        'currency', w.currency,
        'status', w.status,
        'balance', w.balance,
        'created_at', utc_text(w.created_at),
        'updated_at', utc_text(w.updated_at))
$$;

-- Accept -------------------------------------------------------------------------------------------
-- One request as the accept function sees it: the client's fields, then the wallets it resolved.
-- The roles each side must play, and whose currency is the default, come with the request (the
-- ledger's rules, ledger.enums.ROLES, written once, in Python).
CREATE TYPE accepting AS (
    n int, type text, debit_user_id text, credit_user_id text, amount bigint, currency text,
    partition smallint, idempotency_key text, request_hash text, metadata jsonb, callback_url text,
    debit_role text, credit_role text, currency_from_credit boolean,
    id uuid, debit_wallet_id bigint, debit_type text, credit_wallet_id bigint, credit_type text,
    customer_currency text
);

-- Errors carry a SQLSTATE of class WL, which the ledger maps to its own errors (ledger.accept):
-- WL404 no such wallet (DETAIL: its user_id), WL400 a wallet in the wrong role (DETAIL: the code),
-- WL409 an idempotency key reused for another request (DETAIL: the key).
CREATE FUNCTION accept_transactions(client text, items json)
RETURNS TABLE (id uuid, status text, partition smallint, replayed boolean, body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    requests accepting[];
    added transactions[];
    problem record;
    conflict text;
BEGIN
    -- The wallets first, through the user_id index (json_to_recordset looks like 100 rows to the
    -- planner, which would rather scan every wallet than probe the index once or twice).
    WITH named AS MATERIALIZED (
        SELECT w.id, w.user_id, w.acnt_type, w.currency FROM wallets w
        WHERE w.acnt_type <> 'system' AND w.user_id = ANY(ARRAY(
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

DOWNGRADE = r"""
DROP FUNCTION accept_transactions(text, json);
DROP TYPE accepting;
DROP FUNCTION wallet_json(wallets);
DROP FUNCTION transaction_json(transactions, text, text);
DROP FUNCTION utc_text(timestamptz);
DROP TRIGGER entries_checked ON entries;
DROP FUNCTION entries_inserted();
DROP INDEX entries_transaction_wallet;
CREATE INDEX entries_transaction ON entries (transaction_id);
ALTER TABLE entries
    ADD CONSTRAINT entries_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES transactions (id),
    ADD CONSTRAINT entries_wallet_id_fkey FOREIGN KEY (wallet_id) REFERENCES wallets (id);
CREATE FUNCTION entries_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $f$
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
$f$;
CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION entries_check_balanced();
DROP TRIGGER entries_not_truncated ON entries;
DROP TRIGGER wallets_id_fixed ON wallets;
DROP TRIGGER wallets_not_truncated ON wallets;
DROP TRIGGER wallets_kept ON wallets;
DROP TRIGGER transactions_not_truncated ON transactions;
DROP TRIGGER transactions_kept ON transactions;
DROP TRIGGER transactions_decided_final ON transactions;
DROP TRIGGER transactions_queue_decided ON transactions;
DROP FUNCTION transactions_updated();
DROP TRIGGER transactions_queue_inserted ON transactions;
DROP FUNCTION transactions_inserted();
ALTER TABLE transactions RESET (fillfactor);
CREATE INDEX transactions_queued ON transactions (partition, seq) WHERE status = 'queued';
DROP TABLE transaction_queue;
DROP FUNCTION refuse();
ALTER TABLE transactions ALTER COLUMN currency TYPE char(3), ALTER COLUMN idempotency_key TYPE text,
    ADD CONSTRAINT transactions_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT transactions_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 255);
ALTER TABLE wallets ALTER COLUMN user_id TYPE text, ALTER COLUMN currency TYPE char(3),
    ADD CONSTRAINT wallets_user_id_format CHECK (user_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
    ADD CONSTRAINT wallets_currency_iso CHECK (currency ~ '^[A-Z]{3}$');
DROP DOMAIN idempotency_key;
DROP DOMAIN currency_code;
DROP DOMAIN wallet_user_id;
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(DOWNGRADE)
