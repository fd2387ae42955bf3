"""Stock history: every change of the ERP's quantity and of what each channel was sent."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

from .base import AccountOwned, UTCDateTime, utcnow


class StockEvent(AccountOwned, db.Model):
    """kind 'erp': the ERP published a new quantity; 'published': a node was sent one."""
    __tablename__ = "stock_events"
    __table_args__ = (sa.Index("ix_stock_events_product_created", "product_id", "created_at"),
                      sa.Index("ix_stock_events_created", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    node_id: Mapped[int | None] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    quantity: Mapped[int]
    previous: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
