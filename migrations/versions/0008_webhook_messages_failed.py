"""The webhook deliveries given up, indexed: GET /metrics counts them at every scrape.

Pending deliveries are counted through ``webhook_messages_due`` (0003); the failed ones had no
index, so counting them read the whole outbox. A partial index holds only them: a scrape's count
costs as many index entries as there are deliveries given up, whatever the outbox's size.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX webhook_messages_failed ON webhook_messages (created_at) WHERE status = 'failed'")


def downgrade() -> None:
    op.execute("DROP INDEX webhook_messages_failed")
