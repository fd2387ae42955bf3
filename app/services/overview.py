"""What the portal's dashboard shows: node health, waiting orders, quantity drift, charts.

Read-only queries, each limited to one account and bounded (LIMIT or a date range), so the
dashboard stays fast with a large history. No Flask here.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (Node, NodeKind, Order, OrderBinding, Product, ProductBinding, Run,
                        RunStatus, utcnow)


def waiting_orders(account_id: int, limit: int = 20) -> tuple[int, list[tuple[Order, str]]]:
    """Orders the ERP has not acknowledged (not cancelled), oldest first, with their state."""
    base = sa.and_(Order.account_id == account_id, Order.erp_acknowledged_at.is_(None),
                   Order.cancelled_at.is_(None))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(base))
    orders = db.session.scalars(sa.select(Order).where(base)
                                .order_by(Order.placed_at, Order.id).limit(limit)).all()
    states = {}
    if orders:
        for b in db.session.scalars(sa.select(OrderBinding).where(
                OrderBinding.account_id == account_id,
                OrderBinding.order_id.in_([o.id for o in orders]))):
            states[b.order_id] = b.status
    return total, [(o, states.get(o.id, "not offered yet")) for o in orders]


def quantity_drift(account_id: int, limit: int = 20) -> list[tuple[Product, list]]:
    """Products whose last sent quantity differs between channels, with each node's figure."""
    ids = db.session.scalars(
        sa.select(ProductBinding.product_id)
        .join(Node, Node.id == ProductBinding.node_id)
        .where(ProductBinding.account_id == account_id, Node.kind != NodeKind.ERP.value,
               ProductBinding.synced_quantity.is_not(None))
        .group_by(ProductBinding.product_id)
        .having(sa.func.count(sa.distinct(ProductBinding.synced_quantity)) > 1)
        .order_by(ProductBinding.product_id).limit(limit)).all()
    if not ids:
        return []
    rows = db.session.execute(
        sa.select(ProductBinding.product_id, Node.name, ProductBinding.synced_quantity)
        .join(Node, Node.id == ProductBinding.node_id)
        .where(ProductBinding.product_id.in_(ids), Node.kind != NodeKind.ERP.value)
        .order_by(Node.name)).all()
    per = defaultdict(list)
    for pid, name, qty in rows:
        per[pid].append((name, qty))
    products = db.session.scalars(sa.select(Product).where(Product.id.in_(ids))
                                  .order_by(Product.sku)).all()
    return [(p, per[p.id]) for p in products]


def orders_per_day(account_id: int, days: int = 14) -> tuple[list[date], dict[str, list[int]]]:
    """Orders placed per day per source node over the last `days` days (UTC)."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    day = sa.func.date(Order.placed_at)
    rows = db.session.execute(
        sa.select(Node.name, day, sa.func.count())
        .join(Node, Node.id == Order.source_node_id)
        .where(Order.account_id == account_id, Order.placed_at >= start)
        .group_by(Node.name, day)).all()
    axis = [first + timedelta(days=i) for i in range(days)]
    index = {d.isoformat(): i for i, d in enumerate(axis)}
    series: dict[str, list[int]] = {}
    for name, d, count in rows:
        i = index.get(str(d)[:10])
        if i is not None:
            series.setdefault(name, [0] * days)[i] += count
    return axis, series


def run_durations(account_id: int, limit: int = 30) -> list[tuple[Run, float]]:
    runs = db.session.scalars(
        Run.scoped(account_id).where(Run.finished_at.is_not(None), Run.started_at.is_not(None),
                                     Run.status != RunStatus.CANCELLED.value)
        .order_by(Run.id.desc()).limit(limit)).all()
    return [(r, max(0.0, (r.finished_at - r.started_at).total_seconds()))
            for r in reversed(runs)]
