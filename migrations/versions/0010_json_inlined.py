"""The JSON of a transaction and of a wallet built inline in the query that asks for it.

``transaction_json``, ``wallet_json`` and ``utc_text`` are SQL functions. PostgreSQL inlines such a
function into the calling query only if its body is a single expression without a sub-select, and
only if it is no less volatile than what it calls. None of them was: the settlement and reversal
sub-selects kept ``transaction_json`` out, the open-holds sum kept ``wallet_json`` out, and
``utc_text`` was declared IMMUTABLE around ``to_char``, which is STABLE. A function that is not
inlined is planned again by every statement that calls it: the accept of one transfer spent as
long building its answer as inserting it (pgbench, the accept statement alone: 1,340 tps before,
2,770 after, on the same machine), and every poll and wallet read paid the same.

The sub-selects move to functions of their own, called only when their CASE needs them
(``transaction_settlement`` and ``transaction_reversals``, for a settled hold and a reversed
transaction) or in PL/pgSQL, whose plans live as long as the connection (``wallet_held``), and
``utc_text`` says STABLE. The JSON is unchanged, field for field.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from alembic import op

from migrations.earlier import edited, excerpt, migration

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- The capture, void or expiry that settled a hold.
CREATE FUNCTION transaction_settlement(original uuid) RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT json_build_object('id', s.id, 'type', s.type, 'amount', s.amount,
                                     'applied_at', utc_text(s.decided_at))
            FROM transactions s
            WHERE s.original_id = original AND s.status = 'applied' AND s.type IN ('capture', 'void', 'expiry'));
END;
$$;

-- The applied reversals of a transaction, oldest first.
CREATE FUNCTION transaction_reversals(original uuid) RETURNS uuid[] LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN ARRAY(SELECT r.id FROM transactions r
                 WHERE r.original_id = original AND r.type = 'reversal' AND r.status = 'applied' ORDER BY r.seq);
END;
$$;

-- What a wallet's open holds keep from its balance.
CREATE FUNCTION wallet_held(wallet bigint) RETURNS bigint LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT coalesce(sum(h.amount), 0) FROM open_holds h WHERE h.wallet_id = wallet);
END;
$$;
"""

JSON_EDITS = [
    (
        """THEN (
            SELECT json_build_object('id', s.id, 'type', s.type, 'amount', s.amount,
                                     'applied_at', utc_text(s.decided_at))
            FROM transactions s
            WHERE s.original_id = t.id AND s.status = 'applied' AND s.type IN ('capture', 'void', 'expiry')) END""",
        "THEN transaction_settlement(t.id) END",
    ),
    (
        """THEN ARRAY(
            SELECT r.id FROM transactions r
            WHERE r.original_id = t.id AND r.type = 'reversal' AND r.status = 'applied' ORDER BY r.seq)
            ELSE""",
        "THEN transaction_reversals(t.id) ELSE",
    ),
    (
        "'held', (SELECT coalesce(sum(h.amount), 0) FROM open_holds h WHERE h.wallet_id = w.id)",
        "'held', wallet_held(w.id)",
    ),
]


def _utc_text_0004() -> str:
    """utc_text as migration 0004 created it (IMMUTABLE)."""
    return excerpt("0004_queue_and_set_based_rules", "CREATE FUNCTION utc_text", "-- json, not jsonb")


def upgrade() -> None:
    op.execute(edited(_utc_text_0004(), [("IMMUTABLE", "STABLE")]))
    op.execute(FUNCTIONS)
    op.execute(edited(migration("0007_holds_and_reversals").JSON, JSON_EDITS))


def downgrade() -> None:
    op.execute(migration("0007_holds_and_reversals").JSON)
    op.execute(
        "DROP FUNCTION wallet_held(bigint); DROP FUNCTION transaction_reversals(uuid);"
        " DROP FUNCTION transaction_settlement(uuid);"
    )
    op.execute(_utc_text_0004())
