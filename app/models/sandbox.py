"""The sandbox store's own shop: its catalogue and its orders live inside the hub."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

from .base import AccountOwned, Money, TimestampMixin, UTCDateTime


class SandboxProduct(AccountOwned, TimestampMixin, db.Model):
    __tablename__ = "sandbox_products"
    __table_args__ = (sa.UniqueConstraint("node_id", "sku"),)
    id: Mapped[int] = mapped_column(primary_key=True)  # the sandbox's own product id
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    price: Mapped[Decimal | None] = mapped_column(Money)
    stock: Mapped[int] = mapped_column(default=0)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class SandboxOrder(AccountOwned, TimestampMixin, db.Model):
    __tablename__ = "sandbox_orders"
    __table_args__ = (sa.Index("ix_sandbox_orders_node_updated", "node_id", "updated_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)  # the sandbox's own order id
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), default="processing")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    lines: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{sku, quantity, price}]
    total: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(sa.Text)  # where the hub marks it exported
