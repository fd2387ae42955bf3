"""Available-to-sell, exactly as DOMAIN.md defines it.

available(sku, channel) = max(0, erp_quantity - outstanding - buffer), optionally capped.
An order line is outstanding from import until the ERP acknowledged the order AND published
that SKU's quantity after the acknowledgment; a cancelled order the ERP never got stops at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Order, OrderLine, Product


@dataclass(frozen=True)
class ChannelRules:
    buffer: int = 0
    max_quantity: int | None = None   # never offer more than this on the channel
    percentage: int | None = None     # offer only this share (rounded down) of what is free

    @classmethod
    def from_settings(cls, settings: dict) -> "ChannelRules":
        def num(name):
            value = settings.get(name)
            return int(value) if value not in (None, "") else None
        return cls(buffer=num("buffer") or 0, max_quantity=num("max_quantity"),
                   percentage=num("percentage"))


def available(erp_quantity: int | None, outstanding: int, rules: ChannelRules) -> int:
    free = max(0, (erp_quantity or 0) - outstanding - rules.buffer)
    if rules.percentage is not None:
        free = free * rules.percentage // 100
    if rules.max_quantity is not None:
        free = min(free, rules.max_quantity)
    return free


def outstanding_by_sku(account_id: int, skus: list[str] | None = None) -> dict[str, int]:
    """Units per SKU in hub orders that the ERP's last quantity does not count yet."""
    oldest_as_of = db.session.scalar(sa.select(sa.func.min(Product.erp_quantity_at)).where(
        Product.account_id == account_id))
    not_received = sa.and_(Order.erp_acknowledged_at.is_(None), Order.cancelled_at.is_(None))
    received_not_counted = sa.and_(
        Order.erp_acknowledged_at.is_not(None),
        sa.or_(Product.erp_quantity_at.is_(None),
               Product.erp_quantity_at <= Order.erp_acknowledged_at))
    if oldest_as_of is not None:
        # Orders acknowledged before every SKU's last publication are settled: skip them
        # cheaply (index on account_id, erp_acknowledged_at) instead of scanning history.
        received_not_counted = sa.and_(received_not_counted,
                                       Order.erp_acknowledged_at >= oldest_as_of)
    q = (sa.select(OrderLine.sku, sa.func.sum(OrderLine.quantity))
         .join(Order, Order.id == OrderLine.order_id)
         .outerjoin(Product, sa.and_(Product.account_id == OrderLine.account_id,
                                     Product.sku == OrderLine.sku))
         .where(OrderLine.account_id == account_id, sa.or_(not_received, received_not_counted))
         .group_by(OrderLine.sku))
    if skus is not None:
        q = q.where(OrderLine.sku.in_(skus))
    return {sku: int(total) for sku, total in db.session.execute(q)}
