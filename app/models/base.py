"""Column helpers shared by every model: UTC timestamps, str enums, tenant scoping."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (SQLite has no time zones) and always hands back aware UTC."""
    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


Money = sa.Numeric(14, 4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow,
                                                 nullable=False)


class AccountOwned:
    """Every tenant-owned row carries account_id; look rows up only through these helpers."""
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True, nullable=False)

    @classmethod
    def scoped(cls, account_id: int):
        """A select() limited to one account: the starting point of every tenant query."""
        if account_id is None:
            raise ValueError("an account id is required for a tenant query")
        return sa.select(cls).where(cls.account_id == account_id)

    @classmethod
    def get_owned(cls, account_id: int, row_id):
        """The row with this id if the account owns it, else None (never another tenant's)."""
        if row_id is None:
            return None
        return db.session.scalar(cls.scoped(account_id).where(cls.id == row_id))

    @classmethod
    def get_owned_by_public_id(cls, account_id: int, public_id: str):
        return db.session.scalar(cls.scoped(account_id).where(cls.public_id == public_id))
