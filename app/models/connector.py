"""Connectors: one directed flow of one kind on one node, with its parameters and cursor."""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import AccountOwned, TimestampMixin


class ConnectorKind(str, enum.Enum):
    PRODUCT_IMPORT = "product_import"   # ERP -> hub
    PRODUCT_EXPORT = "product_export"   # hub -> store
    ORDER_IMPORT = "order_import"       # store -> hub
    ORDER_EXPORT = "order_export"       # hub -> ERP


class ConnectorMode(str, enum.Enum):
    FULL = "full"
    QUANTITY = "quantity"


class Connector(AccountOwned, TimestampMixin, db.Model):
    __tablename__ = "connectors"
    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    mode: Mapped[str] = mapped_column(sa.String(16), default=ConnectorMode.FULL.value)
    # Parameters: e.g. {"buffer": 2, "order_filter": "paid", "missing_products": "leave"}.
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Engine-owned state such as the order-import cursor; never edited by the merchant.
    state: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    node = relationship("Node", back_populates="connectors")

    @property
    def label(self) -> str:
        return f"{self.node.name}: {self.kind.replace('_', ' ')} ({self.mode})"
