"""The hub's orders (one per source node and store order id) and their delivery to ERPs."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import AccountOwned, Money, TimestampMixin, UTCDateTime


class Order(AccountOwned, TimestampMixin, db.Model):
    __tablename__ = "orders"
    __table_args__ = (sa.UniqueConstraint("source_node_id", "external_id"),
                      sa.Index("ix_orders_account_placed", "account_id", "placed_at"),
                      sa.Index("ix_orders_account_number", "account_id", "number"),
                      sa.Index("ix_orders_account_ack", "account_id", "erp_acknowledged_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)  # stable id for the ERP
    source_node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(sa.String(64))  # the store's own order id
    number: Mapped[str] = mapped_column(sa.String(64))       # what the customer sees
    status: Mapped[str] = mapped_column(sa.String(24))
    platform_status: Mapped[str | None] = mapped_column(sa.String(32))
    paid: Mapped[bool] = mapped_column(default=False)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    total: Mapped[Decimal | None] = mapped_column(Money)
    tax_total: Mapped[Decimal | None] = mapped_column(Money)
    shipping_total: Mapped[Decimal | None] = mapped_column(Money)
    payment_method: Mapped[str | None] = mapped_column(sa.String(64))
    customer: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    billing_address: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    shipping_address: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    store_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an ERP first acknowledged (or received) it: from then, the ERP's next quantity
    # for each of its SKUs counts the sale (see DOMAIN.md, available-to-sell).
    erp_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the source store was told the order reached the ERP (a note or a status, per the
    # store's settings); set once, by the store's order_import step (sync/flows/order_marks.py).
    store_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lines = relationship("OrderLine", back_populates="order", cascade="all, delete-orphan",
                         order_by="OrderLine.id")
    source_node = relationship("Node")


class OrderLine(AccountOwned, db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (sa.Index("ix_order_lines_account_sku", "account_id", "sku"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    sku: Mapped[str] = mapped_column(sa.String(64))
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("products.id", ondelete="SET NULL"))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal | None] = mapped_column(Money)
    total: Mapped[Decimal | None] = mapped_column(Money)
    tax: Mapped[Decimal | None] = mapped_column(Money)
    external_id: Mapped[str | None] = mapped_column(sa.String(64))
    order = relationship("Order", back_populates="lines")


class OrderBinding(AccountOwned, TimestampMixin, db.Model):
    """An order's delivery to one ERP node: offered/delivered/acknowledged, exactly once."""
    __tablename__ = "order_bindings"
    __table_args__ = (sa.UniqueConstraint("node_id", "order_id"),
                      sa.UniqueConstraint("node_id", "external_id"),
                      sa.Index("ix_order_bindings_node_status", "node_id", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(64))  # the ERP's document number
    # held (does not qualify yet), offered (on the feed), delivered/acknowledged (ERP has it),
    # failed (last attempt failed; retried next run)
    status: Mapped[str] = mapped_column(sa.String(16))
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order = relationship("Order")
