"""The hub's catalogue, its links to each node (bindings) and the ERP's uploaded files."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import AccountOwned, Money, TimestampMixin, UTCDateTime


class Product(AccountOwned, TimestampMixin, db.Model):
    __tablename__ = "products"
    __table_args__ = (sa.UniqueConstraint("account_id", "sku"),
                      sa.Index("ix_products_account_name", "account_id", "name"),
                      sa.Index("ix_products_account_updated", "account_id", "updated_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(64))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("products.id", ondelete="SET NULL"), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    ean: Mapped[str | None] = mapped_column(sa.String(32))
    brand: Mapped[str | None] = mapped_column(sa.String(120))
    category: Mapped[str | None] = mapped_column(sa.String(255))
    weight: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 4))
    price: Mapped[Decimal | None] = mapped_column(Money)
    sale_price: Mapped[Decimal | None] = mapped_column(Money)
    wholesale_price: Mapped[Decimal | None] = mapped_column(Money)
    images: Mapped[list] = mapped_column(sa.JSON, default=list)
    features: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # free attributes
    erp_quantity: Mapped[int | None]
    erp_quantity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)  # a full feed that drops it may disable it
    parent = relationship("Product", remote_side="Product.id")


class ProductBinding(AccountOwned, TimestampMixin, db.Model):
    """A product's id on one node, and what that node was last sent."""
    __tablename__ = "product_bindings"
    __table_args__ = (sa.UniqueConstraint("node_id", "external_id"),
                      sa.UniqueConstraint("node_id", "product_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"),
                                            index=True)
    external_id: Mapped[str] = mapped_column(sa.String(64))
    external_parent_id: Mapped[str | None] = mapped_column(sa.String(64))
    synced_hash: Mapped[str | None] = mapped_column(sa.String(64))
    synced_quantity: Mapped[int | None]
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    product = relationship("Product")


class ProductUpload(AccountOwned, TimestampMixin, db.Model):
    """A validated product file pushed by a file ERP, waiting for its product_import step."""
    __tablename__ = "product_uploads"
    __table_args__ = (sa.Index("ix_product_uploads_node_status", "node_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(sa.String(16))
    content_type: Mapped[str] = mapped_column(sa.String(64))
    rows: Mapped[int]
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)  # zlib-compressed original bytes
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending, applied
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("runs.id", ondelete="SET NULL"))
