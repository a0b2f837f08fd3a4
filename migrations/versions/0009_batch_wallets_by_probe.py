"""A batch's wallets found by one index probe per name, whatever the plan cache holds.

Since 0005 accept_transactions looked the named wallets up as ``client_id IN (client, 'platform')
AND user_id = ANY(<the batch's names>)``. With statistics that say a client has few wallets (a
client that just created thousands, before ANALYZE), PostgreSQL probed the index on client_id
alone and compared every wallet of the client with every name of the batch: for 10,000 wallets
and a batch of 1,000 transfers, 290 ms of a 340 ms accept, in the plan the function then kept.
Each distinct name now probes the unique index (client_id, user_id) for its one wallet (a
platform name is reserved, so a name is at most one wallet the client may use): ~2,000 probes,
a few milliseconds, the same plan at any table size. What the function accepts and refuses is
unchanged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from alembic import op

from migrations.earlier import edited, migration

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NAMED_0007 = (
    """    -- The wallets first, through their index (json_to_recordset looks like 100 rows to the
    -- planner, which would rather scan every wallet than probe the index once or twice): the
    -- client's own, and the platform's providers (its names are reserved, so a name is one wallet).
    WITH named AS MATERIALIZED (
        SELECT w.id, w.user_id, w.acnt_type, w.currency FROM wallets w
        WHERE w.acnt_type NOT IN ('system', 'holding') AND w.client_id IN (client, 'platform')"""
    """ AND w.user_id = ANY(ARRAY(
            SELECT e ->> side FROM json_array_elements(items) AS e,
                   unnest('{debit_user_id,credit_user_id}'::text[]) AS side)))"""
)
# LIMIT 1 keeps each lookup a probe: without it PostgreSQL may flatten the subquery into a join
# and pick a plan by the table's statistics, which is what went wrong.
NAMED = """    -- The wallets first, one probe of the (client_id, user_id) index per distinct name: the
    -- client's own, or the platform's providers (its names are reserved, so a name is one wallet).
    WITH named AS MATERIALIZED (
        SELECT w.id, w.user_id, w.acnt_type, w.currency
        FROM (SELECT DISTINCT e ->> side FROM json_array_elements(items) AS e,
                     unnest('{debit_user_id,credit_user_id}'::text[]) AS side) AS n(user_id)
        JOIN LATERAL (
            SELECT x.id, x.user_id, x.acnt_type, x.currency FROM wallets x
            WHERE x.client_id IN (client, 'platform') AND x.user_id = n.user_id
              AND x.acnt_type NOT IN ('system', 'holding')
            LIMIT 1) AS w ON true)"""


def _accept_0007() -> str:
    """accept_transactions as migration 0007 left it."""
    holds = migration("0007_holds_and_reversals")
    clients = migration("0005_clients_and_api_keys")
    return edited(clients.ACCEPT.replace("<wallets>", clients.CLIENT_WALLETS), holds.ACCEPT_EDITS)


def upgrade() -> None:
    accept = _accept_0007()
    if NAMED_0007 not in accept:
        raise RuntimeError("migration 0007's accept_transactions no longer holds the lookup this one replaces")
    op.execute(accept.replace(NAMED_0007, NAMED))


def downgrade() -> None:
    op.execute(_accept_0007())
