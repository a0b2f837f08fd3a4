"""Opening balances: the system account `world` and the seed's two provider wallets.

The deposit provider's float is posted as an `opening` transaction from `world`, with its two
entries, so the sum of all balances stays zero and no money appears from nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DEPOSIT_PROVIDER_FLOAT = 999_999_999_999

OPENING = f"""
INSERT INTO wallets (user_id, acnt_type) VALUES
    ('world', 'system'),
    ('deposit-provider-master', 'provider'),
    ('withdraw-provider-master', 'provider');

WITH opening AS (
    INSERT INTO transactions (type, status, amount, currency, debit_wallet_id, credit_wallet_id,
                              partition, decided_at)
    SELECT 'opening', 'applied', {DEPOSIT_PROVIDER_FLOAT}, 'USD', w.id, p.id, 0, now()
    FROM wallets w, wallets p
    WHERE w.user_id = 'world' AND p.user_id = 'deposit-provider-master'
    RETURNING id, debit_wallet_id, credit_wallet_id, amount
)
INSERT INTO entries (transaction_id, wallet_id, amount, balance_after)
SELECT id, debit_wallet_id, -amount, -amount FROM opening
UNION ALL
SELECT id, credit_wallet_id, amount, amount FROM opening;

UPDATE wallets SET balance = -{DEPOSIT_PROVIDER_FLOAT} WHERE user_id = 'world';
UPDATE wallets SET balance = {DEPOSIT_PROVIDER_FLOAT} WHERE user_id = 'deposit-provider-master';
"""


def upgrade() -> None:
    op.execute(OPENING)


def downgrade() -> None:
    op.execute(
        "TRUNCATE entries; DELETE FROM transactions WHERE type = 'opening';"
        " DELETE FROM wallets WHERE user_id IN ('world', 'deposit-provider-master', 'withdraw-provider-master');"
    )
