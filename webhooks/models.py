"""SQLAlchemy mappings of the webhook tables (schema: migration 0003), and the event types."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.models import DB_DEFAULT, Base


class EventType(StrEnum):
    """What happened to a transaction: decided (applied, rejected, held), or a hold settled or a
    transaction reversed (the event of the settlement or reversal that did it)."""

    APPLIED = "transaction.applied"
    REJECTED = "transaction.rejected"
    HELD = "transaction.held"
    CAPTURED = "transaction.captured"
    VOIDED = "transaction.voided"
    EXPIRED = "transaction.expired"
    REVERSED = "transaction.reversed"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class EndpointStatus(StrEnum):
    ACTIVE = "active"
    # After the receiver answered 410 Gone.
    DISABLED = "disabled"


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=DB_DEFAULT)
    client_id: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=DB_DEFAULT)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=DB_DEFAULT)
    disabled_at: Mapped[datetime | None]


class WebhookMessage(Base):
    """One event for one target; ``webhook-id`` is derived from ``id``, so retries share it."""

    __tablename__ = "webhook_messages"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=DB_DEFAULT)
    transaction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transactions.id"))
    event_type: Mapped[str] = mapped_column(Text)
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("webhook_endpoints.id"))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=DB_DEFAULT)
    attempts: Mapped[int] = mapped_column(server_default=DB_DEFAULT)
    next_attempt_at: Mapped[datetime | None] = mapped_column(server_default=DB_DEFAULT)
    lease_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    created_at: Mapped[datetime] = mapped_column(server_default=DB_DEFAULT)

    endpoint: Mapped[WebhookEndpoint | None] = relationship()

    @property
    def webhook_id(self) -> str:
        return webhook_id(self.id)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, server_default=DB_DEFAULT)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_messages.id"))
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("webhook_endpoints.id"))
    attempted_at: Mapped[datetime] = mapped_column(server_default=DB_DEFAULT)
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int]
    next_attempt_at: Mapped[datetime | None]

    message: Mapped[WebhookMessage] = relationship(lazy="joined", innerjoin=True)


def webhook_id(message_id: uuid.UUID) -> str:
    return f"msg_{message_id.hex}"
