"""Holds (authorize now, capture, void or expire later) and reversals, with their rules in PostgreSQL.

- A withdraw or a transfer may be a **hold** (``hold``, ``expires_at``). Applied, it moves the amount
  from the payer into the platform's **holding account** of its currency (a wallet of type
  ``holding``, ``holding:USD``...): the payer's balance drops, the payee gets nothing yet, and every
  cent stays on the ledger's books. Its status is then ``held``.
- ``capture``, ``void`` and ``expiry`` transactions settle a hold (``original_id``), queued in the
  hold's partition like anything else. Applied, each moves the money out of the holding account
  again (to the payee, the rest back to the payer; or all back to the payer), and the database
  itself marks the hold ``captured``, ``voided`` or ``expired`` in the same statement: a trigger
  that finds no open hold to settle refuses the batch, and a settled hold's status never changes
  again, so a hold is settled exactly once whatever the application does.
- ``reversal`` transactions move money back from an applied transaction's payee to its payer. The
  database adds each applied reversal to its original's ``reversed_amount``, which a CHECK keeps
  within the original's amount: reversals can never sum past their original, even two submitted at
  the same moment (the second one's batch would be refused; the engine rejects it first).
- ``open_holds``: the holds that are ``held`` now, kept by the same trigger that keeps the queue:
  what a wallet's ``held`` amount sums, and what the expiry sweep reads by ``expires_at``. No index
  of ``transactions`` mentions ``status`` (its updates stay HOT).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from alembic import op

from migrations.earlier import edited, excerpt, migration

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SETTLING = "'capture', 'void', 'expiry'"
HOLD_STATES = "'held', 'captured', 'voided', 'expired'"

SCHEMA = rf"""
-- Kinds, states, codes and events ----------------------------------------------------------------
ALTER TABLE transactions
    DROP CONSTRAINT transactions_type_known,
    ADD CONSTRAINT transactions_type_known
        CHECK (type IN ('deposit', 'withdraw', 'transfer', 'opening', {SETTLING}, 'reversal')),
    DROP CONSTRAINT transactions_status_known,
    ADD CONSTRAINT transactions_status_known CHECK (status IN ('queued', 'applied', 'rejected', {HOLD_STATES})),
    DROP CONSTRAINT transactions_failure_code_known,
    ADD CONSTRAINT transactions_failure_code_known CHECK (failure_code IN
        ('insufficient_funds', 'wallet_inactive', 'currency_mismatch', 'wallet_not_found',
         'hold_not_pending', 'reversal_exceeds_original'));
ALTER TABLE wallets
    DROP CONSTRAINT wallets_acnt_type_known,
    ADD CONSTRAINT wallets_acnt_type_known CHECK (acnt_type IN ('user', 'provider', 'system', 'holding'));
ALTER TABLE webhook_messages
    DROP CONSTRAINT webhook_messages_event_known,
    ADD CONSTRAINT webhook_messages_event_known CHECK (event_type IN (
        'transaction.applied', 'transaction.rejected', 'transaction.held', 'transaction.captured',
        'transaction.voided', 'transaction.expired', 'transaction.reversed'));
ALTER TABLE webhook_endpoints
    DROP CONSTRAINT webhook_endpoints_events_known,
    ADD CONSTRAINT webhook_endpoints_events_known CHECK (cardinality(events) > 0 AND events <@ ARRAY[
        'transaction.applied', 'transaction.rejected', 'transaction.held', 'transaction.captured',
        'transaction.voided', 'transaction.expired', 'transaction.reversed']);

-- The new columns: fast defaults, no table rewrite ----------------------------------------------
ALTER TABLE transactions
    ADD COLUMN hold            boolean NOT NULL DEFAULT false,
    ADD COLUMN expires_at      timestamptz,
    ADD COLUMN original_id     uuid,
    ADD COLUMN reversed_amount bigint  NOT NULL DEFAULT 0,
    -- A hold is a withdraw or a transfer with an expiry; only a hold is ever held, captured...
    ADD CONSTRAINT transactions_hold_shape
        CHECK (hold = (expires_at IS NOT NULL) AND (NOT hold OR type IN ('withdraw', 'transfer'))),
    ADD CONSTRAINT transactions_hold_states
        CHECK ((hold OR status NOT IN ({HOLD_STATES})) AND (NOT hold OR status <> 'applied')),
    -- ...and only settlements and reversals name an original.
    ADD CONSTRAINT transactions_original_shape
        CHECK ((original_id IS NOT NULL) = (type IN ({SETTLING}, 'reversal'))),
    ADD CONSTRAINT transactions_reversed_within CHECK (reversed_amount >= 0 AND reversed_amount <= amount);
-- A transaction's settlements and reversals (the column never changes: updates stay HOT).
CREATE INDEX transactions_original ON transactions (original_id) WHERE original_id IS NOT NULL;
-- One expiry per hold: the sweep may find a hold again before its expiry is applied.
CREATE UNIQUE INDEX transactions_one_expiry ON transactions (original_id) WHERE type = 'expiry';

-- Request fields never change; a decided transaction stays decided, but for the two changes the
-- database makes itself (pg_trigger_depth() > 0: from the trigger below): a held hold is settled
-- once, and an applied transaction's reversed_amount grows by its applied reversals.
DROP TRIGGER transactions_decided_final ON transactions;
<decided_final>

-- Holding accounts ------------------------------------------------------------------------------
-- One per currency in use, the platform's; ledger.accept opens one with the first wallet of a
-- new currency. holding: names are the platform's: no client may open one.
INSERT INTO wallets (client_id, user_id, acnt_type, currency)
SELECT DISTINCT 'platform', 'holding:' || currency, 'holding', currency FROM wallets
ON CONFLICT (client_id, user_id) DO NOTHING;

<platform_names>

-- Open holds, and the queue, kept by the triggers ------------------------------------------------
CREATE TABLE open_holds (
    transaction_id uuid          PRIMARY KEY,
    wallet_id      bigint        NOT NULL,
    amount         bigint        NOT NULL,
    currency       currency_code NOT NULL,
    partition      smallint      NOT NULL,
    client_id      text          NOT NULL,
    expires_at     timestamptz   NOT NULL
);
CREATE INDEX open_holds_wallet ON open_holds (wallet_id);
CREATE INDEX open_holds_expiry ON open_holds (expires_at);
CREATE TRIGGER open_holds_copies
    BEFORE UPDATE ON open_holds FOR EACH ROW
    EXECUTE FUNCTION refuse('open holds are copies of their transactions: never edited');

ALTER TABLE transaction_queue ADD COLUMN hold boolean NOT NULL DEFAULT false, ADD COLUMN original_id uuid;

CREATE OR REPLACE FUNCTION transactions_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM transaction_queue q USING updated u
    WHERE u.status <> 'queued' AND q.partition = u.partition AND q.seq = u.seq;
    -- A hold settled in the batch that held it is settled by now (row triggers run first).
    INSERT INTO open_holds
    SELECT t.id, t.debit_wallet_id, t.amount, t.currency, t.partition, t.client_id, t.expires_at
    FROM updated u JOIN transactions t ON t.id = u.id AND t.status = 'held'
    WHERE u.status = 'held';
    DELETE FROM open_holds h USING updated u
    WHERE u.status IN ('captured', 'voided', 'expired') AND h.transaction_id = u.id;
    RETURN NULL;
END;
$$;

-- Settlements and reversals: what the database does when one is applied -------------------------
CREATE FUNCTION transactions_follow_up_applied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.type = 'reversal' THEN
        -- From the original's payee back to its payer, never more than is left to reverse.
        UPDATE transactions o SET reversed_amount = o.reversed_amount + NEW.amount
        WHERE o.id = NEW.original_id AND o.status = 'applied' AND o.client_id = NEW.client_id
          AND o.debit_wallet_id = NEW.credit_wallet_id AND o.credit_wallet_id = NEW.debit_wallet_id
          AND o.currency = NEW.currency;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'transactions_reversal_of_applied: reversal % names nothing it can reverse', NEW.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'transactions_reversal_of_applied';
        END IF;
        RETURN NULL;
    END IF;
    -- A capture takes at most the held amount; a void or an expiry releases all of it.
    UPDATE transactions h
    SET status = CASE NEW.type WHEN 'capture' THEN 'captured' WHEN 'void' THEN 'voided' ELSE 'expired' END
    WHERE h.id = NEW.original_id AND h.status = 'held' AND h.client_id = NEW.client_id
      AND h.debit_wallet_id = NEW.debit_wallet_id AND h.credit_wallet_id = NEW.credit_wallet_id
      AND h.currency = NEW.currency
      AND (NEW.amount = h.amount OR (NEW.type = 'capture' AND NEW.amount < h.amount));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'transactions_hold_settled_once: % % names no open hold it can settle', NEW.type, NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'transactions_hold_settled_once';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER transactions_follow_up_applied
    AFTER UPDATE ON transactions FOR EACH ROW
    WHEN (OLD.status = 'queued' AND NEW.status = 'applied' AND NEW.original_id IS NOT NULL)
    EXECUTE FUNCTION transactions_follow_up_applied();
"""

DOWNGRADE = r"""
DROP TRIGGER transactions_follow_up_applied ON transactions;
DROP FUNCTION transactions_follow_up_applied();
<updated>
ALTER TABLE transaction_queue DROP COLUMN hold, DROP COLUMN original_id;
DROP TABLE open_holds;
<platform_names>
DROP TRIGGER transactions_decided_final ON transactions;
<decided_final>
DROP INDEX transactions_one_expiry;
DROP INDEX transactions_original;
ALTER TABLE transactions DROP CONSTRAINT transactions_reversed_within, DROP CONSTRAINT transactions_original_shape,
    DROP CONSTRAINT transactions_hold_states, DROP CONSTRAINT transactions_hold_shape,
    DROP COLUMN reversed_amount, DROP COLUMN original_id, DROP COLUMN expires_at, DROP COLUMN hold;
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_events_known,
    ADD CONSTRAINT webhook_endpoints_events_known
        CHECK (cardinality(events) > 0 AND events <@ ARRAY['transaction.applied', 'transaction.rejected']);
ALTER TABLE webhook_messages DROP CONSTRAINT webhook_messages_event_known,
    ADD CONSTRAINT webhook_messages_event_known CHECK (event_type IN ('transaction.applied', 'transaction.rejected'));
ALTER TABLE wallets DROP CONSTRAINT wallets_acnt_type_known,
    ADD CONSTRAINT wallets_acnt_type_known CHECK (acnt_type IN ('user', 'provider', 'system'));
ALTER TABLE transactions DROP CONSTRAINT transactions_failure_code_known,
    ADD CONSTRAINT transactions_failure_code_known CHECK (failure_code IN
        ('insufficient_funds', 'wallet_inactive', 'currency_mismatch', 'wallet_not_found')),
    DROP CONSTRAINT transactions_status_known,
    ADD CONSTRAINT transactions_status_known CHECK (status IN ('queued', 'applied', 'rejected')),
    DROP CONSTRAINT transactions_type_known,
    ADD CONSTRAINT transactions_type_known CHECK (type IN ('deposit', 'withdraw', 'transfer', 'opening'));
"""


# What to JSON a transaction or a wallet is: a hold's expiry and settlement, a follow-up's
# original, what was reversed and by which reversals; a wallet's held and available amounts.
JSON_EDITS = [
    (
        "THEN json_build_object('code', t.failure_code, 'message', t.failure_message) END)",
        """THEN json_build_object('code', t.failure_code, 'message', t.failure_message) END,
        'hold', t.hold,
        'expires_at', utc_text(t.expires_at),
        'settled_by', CASE WHEN t.status IN ('captured', 'voided', 'expired') THEN (
            SELECT json_build_object('id', s.id, 'type', s.type, 'amount', s.amount,
                                     'applied_at', utc_text(s.decided_at))
            FROM transactions s
            WHERE s.original_id = t.id AND s.status = 'applied' AND s.type IN ('capture', 'void', 'expiry')) END,
        'original_id', t.original_id,
        'reversed_amount', t.reversed_amount,
        'reversals', CASE WHEN t.reversed_amount > 0 THEN ARRAY(
            SELECT r.id FROM transactions r
            WHERE r.original_id = t.id AND r.type = 'reversal' AND r.status = 'applied' ORDER BY r.seq)
            ELSE '{}' END)""",
    ),
    (
        "        'balance', w.balance,\n",
        """        'balance', w.balance,
        'held', (SELECT coalesce(sum(h.amount), 0) FROM open_holds h WHERE h.wallet_id = w.id),
        'available', w.balance,
""",
    ),
]

# A request as accept_transactions sees it gains a hold flag and an expiry (seconds from now).
ACCEPTING = r"""
DROP FUNCTION accept_transactions(text, json);
DROP TYPE accepting;
CREATE TYPE accepting AS (
    n int, type text, debit_user_id text, credit_user_id text, amount bigint, currency text,
    partition smallint, idempotency_key text, request_hash text, metadata jsonb, callback_url text,
    debit_role text, credit_role text, currency_from_credit boolean, <hold>
    id uuid, debit_wallet_id bigint, debit_type text, credit_wallet_id bigint, credit_type text,
    customer_currency text
);
"""
HOLD_FIELDS = "hold boolean, expires_in int,"
# Edits of migration 0005's accept_transactions, each checked to apply.
ACCEPT_EDITS = [
    (
        "debit_role text, credit_role text, currency_from_credit boolean)",
        "debit_role text, credit_role text, currency_from_credit boolean, hold boolean, expires_in int)",
    ),
    (
        "client_id, idempotency_key, request_hash, metadata, callback_url)",
        "client_id, idempotency_key, request_hash, metadata, callback_url, hold, expires_at)",
    ),
    (
        "r.partition, client, r.idempotency_key, r.request_hash, r.metadata, r.callback_url",
        "r.partition, client, r.idempotency_key, r.request_hash, r.metadata, r.callback_url,\n"
        "               coalesce(r.hold, false), CASE WHEN r.hold THEN now() + make_interval(secs => r.expires_in) END",
    ),
    # Holding accounts are the platform's own, like world: no request may name one.
    ("WHERE w.acnt_type <> 'system' AND", "WHERE w.acnt_type NOT IN ('system', 'holding') AND"),
]

# Capture, void and reverse, in one round trip: a replay answers as the first request did, then the
# original is checked (the client's own, a hold to settle, an applied transaction with something
# left to reverse) and the follow-up queued. Errors carry a SQLSTATE the ledger maps (ledger.accept):
# WLT04 no such transaction, WL400 an amount the original cannot take, WLC09 an original in the
# wrong state (DETAIL: the code), WL409 an idempotency key reused for another request.
FOLLOW_UP = r"""
CREATE FUNCTION accept_follow_up(p_client text, p_type text, p_original uuid, p_amount bigint,
                                 p_partition smallint, p_key text, p_hash text, p_callback_url text)
RETURNS TABLE (id uuid, status text, partition smallint, replayed boolean, body text)
LANGUAGE plpgsql AS $$
DECLARE
    o transactions;
    t transactions;
    amount bigint;
    payer bigint;
    payee bigint;
    lane smallint;
    fresh boolean := false;
BEGIN
    IF p_key IS NOT NULL THEN
        SELECT * INTO t FROM transactions x WHERE x.client_id = p_client AND x.idempotency_key = p_key;
    END IF;
    IF t.id IS NULL THEN
        SELECT * INTO o FROM transactions x WHERE x.id = p_original AND x.client_id = p_client;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no transaction with id %', p_original USING ERRCODE = 'WLT04', DETAIL = p_original;
        END IF;
        IF p_type = 'reversal' THEN
            IF o.status <> 'applied' THEN
                RAISE EXCEPTION 'only an applied transaction can be reversed; this one is %', o.status
                    USING ERRCODE = 'WLC09', DETAIL = 'transaction_not_applied';
            END IF;
            IF o.type NOT IN ('deposit', 'withdraw', 'transfer', 'capture') THEN
                RAISE EXCEPTION 'a % cannot be reversed', o.type USING ERRCODE = 'WLC09', DETAIL = 'not_reversible';
            END IF;
            amount := coalesce(p_amount, o.amount - o.reversed_amount);
            IF amount <= 0 OR amount > o.amount - o.reversed_amount THEN
                RAISE EXCEPTION '% is left to reverse', o.amount - o.reversed_amount
                    USING ERRCODE = 'WLC09', DETAIL = 'reversal_exceeds_original';
            END IF;
            payer := o.credit_wallet_id;
            payee := o.debit_wallet_id;
            lane := p_partition;
        ELSE
            IF NOT o.hold THEN
                RAISE EXCEPTION 'only a hold can be captured or voided' USING ERRCODE = 'WLC09', DETAIL = 'not_a_hold';
            END IF;
            amount := coalesce(p_amount, o.amount);
            IF amount > o.amount THEN
                RAISE EXCEPTION 'the hold is for %, less than %', o.amount, amount
                    USING ERRCODE = 'WL400', DETAIL = 'amount_exceeds_hold';
            END IF;
            -- In the hold's partition, after it: a capture sent before its hold is applied waits for it.
            payer := o.debit_wallet_id;
            payee := o.credit_wallet_id;
            lane := o.partition;
        END IF;
        INSERT INTO transactions (type, amount, currency, debit_wallet_id, credit_wallet_id, partition, client_id,
                                  idempotency_key, request_hash, callback_url, original_id)
        VALUES (p_type, amount, o.currency, payer, payee, lane, p_client, p_key, p_hash, p_callback_url, o.id)
        ON CONFLICT (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING * INTO t;
        fresh := t.id IS NOT NULL;
        IF NOT fresh THEN
            -- A concurrent first use of the key won: it has committed by now.
            SELECT * INTO t FROM transactions x WHERE x.client_id = p_client AND x.idempotency_key = p_key;
        END IF;
    END IF;
    IF NOT fresh AND t.request_hash IS DISTINCT FROM p_hash THEN
        RAISE EXCEPTION 'Idempotency-Key % was already used for a different request', quote_literal(p_key)
            USING ERRCODE = 'WL409', DETAIL = p_key;
    END IF;
    RETURN QUERY
    SELECT t.id, t.status, t.partition, NOT fresh, CAST(transaction_json(t, d.user_id, c.user_id) AS text)
    FROM wallets d, wallets c WHERE d.id = t.debit_wallet_id AND c.id = t.credit_wallet_id;
END;
$$;
"""

# The queue copies a transaction's hold flag and original too: the engine reads only the queue.
QUEUE_COPY_0006 = "created_at\n    FROM inserted WHERE status = 'queued';"
QUEUE_COPY = "created_at, hold, original_id\n    FROM inserted WHERE status = 'queued';"
# Nothing to undo into: the columns and wallets this migration adds would take money with them.
UNDOABLE = r"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM transactions WHERE hold OR original_id IS NOT NULL) THEN
        RAISE EXCEPTION 'holds or reversals exist: downgrading would lose them';
    END IF;
END;
$$;
ALTER TABLE wallets DISABLE TRIGGER wallets_kept;
DELETE FROM wallets WHERE acnt_type = 'holding';
ALTER TABLE wallets ENABLE TRIGGER wallets_kept;
"""


def _json_0004() -> str:
    """transaction_json and wallet_json as migration 0004 created them, to be put back."""
    return excerpt("0004_queue_and_set_based_rules", "CREATE FUNCTION transaction_json", "-- Accept ---")


JSON = edited(_json_0004(), JSON_EDITS)


# holding: names are the platform's too: the 0005 rule, with one more way to break it.
PLATFORM_NAMES_EDITS = [
    (
        """    IF EXISTS (SELECT 1 FROM wallets w
               WHERE w.user_id = NEW.user_id AND w.id <> NEW.id
                 AND (w.client_id = 'platform') <> (NEW.client_id = 'platform')) THEN""",
        """    IF (NEW.client_id <> 'platform' AND NEW.user_id LIKE 'holding:%')
       OR EXISTS (SELECT 1 FROM wallets w
                  WHERE w.user_id = NEW.user_id AND w.id <> NEW.id
                    AND (w.client_id = 'platform') <> (NEW.client_id = 'platform')) THEN""",
    )
]


def _platform_names_0005() -> str:
    """wallets_platform_names as migration 0005 created it."""
    return excerpt("0005_clients_and_api_keys", "CREATE FUNCTION wallets_platform_names", "CREATE TRIGGER")


# Held holds settle, and reversals count against their original: 0004's rule, with the request's
# new fields kept and the two changes the database makes itself let through.
DECIDED_FINAL_EDITS = [
    (
        "OR OLD.client_id <> NEW.client_id OR OLD.created_at <> NEW.created_at\n",
        """OR OLD.client_id <> NEW.client_id OR OLD.created_at <> NEW.created_at
          OR OLD.hold <> NEW.hold OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
          OR OLD.original_id IS DISTINCT FROM NEW.original_id
""",
    ),
    (
        "IS DISTINCT FROM (NEW.status, NEW.failure_code, NEW.failure_message, NEW.decided_at)))\n",
        """IS DISTINCT FROM (NEW.status, NEW.failure_code, NEW.failure_message, NEW.decided_at)
              AND NOT (pg_trigger_depth() > 0 AND OLD.status = 'held'
                       AND NEW.status IN ('captured', 'voided', 'expired')
                       AND (OLD.failure_code, OLD.failure_message, OLD.decided_at)
                           IS NOT DISTINCT FROM (NEW.failure_code, NEW.failure_message, NEW.decided_at)))
          OR (OLD.reversed_amount <> NEW.reversed_amount
              AND (pg_trigger_depth() = 0 OR NEW.reversed_amount < OLD.reversed_amount)))
""",
    ),
]


def _decided_final_0004() -> str:
    """transactions_decided_final as migration 0004 created it."""
    return excerpt("0004_queue_and_set_based_rules", "CREATE TRIGGER transactions_decided_final", "CREATE TRIGGER")


def upgrade() -> None:
    op.execute(
        SCHEMA.replace("<platform_names>\n", edited(_platform_names_0005(), PLATFORM_NAMES_EDITS)).replace(
            "<decided_final>\n", edited(_decided_final_0004(), DECIDED_FINAL_EDITS)
        )
    )
    queueing = migration("0006_checks_through_indexes").TRANSACTIONS_INSERTED
    op.execute(edited(queueing, [(QUEUE_COPY_0006, QUEUE_COPY)]))
    clients = migration("0005_clients_and_api_keys")
    op.execute(ACCEPTING.replace("<hold>", HOLD_FIELDS))
    op.execute(edited(clients.ACCEPT.replace("<wallets>", clients.CLIENT_WALLETS), ACCEPT_EDITS))
    op.execute(JSON)
    op.execute(FOLLOW_UP)


def downgrade() -> None:
    op.execute(UNDOABLE)
    op.execute("DROP FUNCTION accept_follow_up(text, text, uuid, bigint, smallint, text, text, text)")
    op.execute(_json_0004())
    clients = migration("0005_clients_and_api_keys")
    op.execute(ACCEPTING.replace("<hold>", ""))
    op.execute(clients.ACCEPT.replace("<wallets>", clients.CLIENT_WALLETS))
    op.execute(migration("0006_checks_through_indexes").TRANSACTIONS_INSERTED)
    op.execute(
        DOWNGRADE.replace("<platform_names>\n", _platform_names_0005())
        .replace("<decided_final>\n", _decided_final_0004())
        .replace(
            "<updated>\n",
            excerpt("0004_queue_and_set_based_rules", "CREATE FUNCTION transactions_updated", "CREATE TRIGGER"),
        )
    )
