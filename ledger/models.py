"""SQLAlchemy mappings of the ledger tables. The schema itself lives in Alembic migrations."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, FetchedValue, ForeignKey, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ledger.enums import TransactionStatus

# Defaults live in the migrations; FetchedValue tells the ORM to read them back after an insert.
DB_DEFAULT = FetchedValue()


class Base(DeclarativeBase):
    pass


class Wallet(Base):
    __tablename__ = "wallets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, server_default=DB_DEFAULT)
    client_id: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(Text)
    acnt_type: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3), server_default=DB_DEFAULT)
    status: Mapped[str] = mapped_column(Text, server_default=DB_DEFAULT)
    balance: Mapped[int] = mapped_column(BigInteger, server_default=DB_DEFAULT)
    created_at: Mapped[datetime] = mapped_column(server_default=DB_DEFAULT)
    updated_at: Mapped[datetime] = mapped_column(server_default=DB_DEFAULT)


class Transaction(Base):
    __tablename__ = "transactions"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=DB_DEFAULT)
    seq: Mapped[int] = mapped_column(BigInteger, server_default=DB_DEFAULT)
    type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=DB_DEFAULT)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    debit_wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"))
    credit_wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"))
    partition: Mapped[int] = mapped_column(SmallInteger)
    client_id: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    request_hash: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict | None] = mapped_column("metadata", JSONB)
    callback_url: Mapped[str | None] = mapped_column(Text)
    failure_code: Mapped[str | None] = mapped_column(Text)
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=DB_DEFAULT)
    decided_at: Mapped[datetime | None]
    hold: Mapped[bool] = mapped_column(server_default=DB_DEFAULT)
    expires_at: Mapped[datetime | None]
    original_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    reversed_amount: Mapped[int] = mapped_column(BigInteger, server_default=DB_DEFAULT)

    # Every read shows who paid and who was paid, so both wallets come in the same query.
    debit_wallet: Mapped[Wallet] = relationship(foreign_keys=[debit_wallet_id], lazy="joined")
    credit_wallet: Mapped[Wallet] = relationship(foreign_keys=[credit_wallet_id], lazy="joined")

    @property
    def applied_at(self) -> datetime | None:
        return self.decided_at if self.status == TransactionStatus.APPLIED else None


class Entry(Base):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, server_default=DB_DEFAULT)
    transaction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transactions.id"))
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=DB_DEFAULT)

    transaction: Mapped[Transaction] = relationship(lazy="joined")
