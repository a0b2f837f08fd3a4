"""Webhooks: registered endpoints, the outbox of events to deliver, and the log of every attempt.

An outbox row (``webhook_messages``) is one event for one target: a transaction's own
``callback_url`` (signed with the server secret) or a registered endpoint (signed with its own
secret). Rows are written by the posting engine in the batch that decides the transaction; due
rows are claimed by the delivery worker with ``FOR UPDATE SKIP LOCKED`` and a lease.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = r"""
CREATE TABLE webhook_endpoints (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    url          text        NOT NULL CONSTRAINT webhook_endpoints_url_length CHECK (char_length(url) <= 2048),
    -- The HMAC key itself (whsec_...): signing needs it in clear, so it is shown to its owner once.
    secret       text        NOT NULL,
    events       text[]      NOT NULL
                 CONSTRAINT webhook_endpoints_events_known
                 CHECK (cardinality(events) > 0 AND events <@ ARRAY['transaction.applied', 'transaction.rejected']),
    description  text        CONSTRAINT webhook_endpoints_description_length CHECK (char_length(description) <= 500),
    status       text        NOT NULL DEFAULT 'active'
                 CONSTRAINT webhook_endpoints_status_known CHECK (status IN ('active', 'disabled')),
    disabled_reason text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at  timestamptz,
    CONSTRAINT webhook_endpoints_disabled_when CHECK ((status = 'disabled') = (disabled_at IS NOT NULL))
);

CREATE TABLE webhook_messages (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    transaction_id  uuid        NOT NULL REFERENCES transactions (id),
    event_type      text        NOT NULL
                    CONSTRAINT webhook_messages_event_known
                    CHECK (event_type IN ('transaction.applied', 'transaction.rejected')),
    -- NULL: the transaction's own callback_url, signed with the server secret.
    endpoint_id     uuid        REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    url             text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending'
                    CONSTRAINT webhook_messages_status_known CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    -- When the row is due. A claim pushes it a lease ahead: a worker that dies holding the row
    -- lets it come due again.
    next_attempt_at timestamptz DEFAULT now(),
    -- The latest claim, and the id of the one Celery task allowed to send it; NULL when unclaimed.
    lease_id        uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_messages_due_iff_pending CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);
-- One event per transaction and target, even if a batch were ever replayed.
CREATE UNIQUE INDEX webhook_messages_event ON webhook_messages (transaction_id, endpoint_id) NULLS NOT DISTINCT;
-- The poller's question, "pending rows due now", answered by a small index that empties as rows finish.
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id) WHERE endpoint_id IS NOT NULL;

CREATE TABLE webhook_attempts (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      uuid        NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    -- Copied from the message so an endpoint's log is one index range, newest first.
    endpoint_id     uuid        REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    attempted_at    timestamptz NOT NULL DEFAULT now(),
    response_status smallint,
    error           text,
    latency_ms      integer     NOT NULL CONSTRAINT webhook_attempts_latency CHECK (latency_ms >= 0),
    -- When the next try is due; NULL when this attempt ended the message (delivered or failed).
    next_attempt_at timestamptz,
    CONSTRAINT webhook_attempts_outcome CHECK (response_status IS NOT NULL OR error IS NOT NULL)
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id) WHERE endpoint_id IS NOT NULL;
CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, id);

-- The outbox writer asks, per batch, "which of these transactions have a callback_url?". Few do,
-- so probing this small index costs next to nothing when none in the batch has one.
CREATE INDEX transactions_callback ON transactions (id) WHERE callback_url IS NOT NULL;
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(
        "DROP INDEX transactions_callback; DROP TABLE webhook_attempts; DROP TABLE webhook_messages;"
        " DROP TABLE webhook_endpoints;"
    )
