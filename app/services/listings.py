"""Keyset-paginated, prefix-searchable lists of products, orders and runs for the portal.

Each page is one index range scan: products by (account_id, sku) or (account_id, name),
orders by (account_id, placed_at) or (account_id, number), so a page costs the same at row
100 000 as at row 1. No OFFSET. No Flask here.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app.extensions import db
from app.models import Order, Product, Run, StepItem

PAGE = 50
TOP = "\U0010ffff"  # sorts after every character: "abc" <= x < "abc" + TOP is the prefix range


def _prefix(column, text: str):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.and_(column >= text, column < text + TOP, column.like(escaped + "%", escape="\\"))


def products_page(account_id: int, q: str = "", field: str = "sku", after: str | None = None,
                  size: int = PAGE) -> tuple[list[Product], str | None]:
    """A page of products, by SKU prefix or name prefix; `after` is the last row's cursor."""
    stmt = Product.scoped(account_id)
    if field == "name":
        stmt = stmt.where(Product.name.is_not(None))
        if q:
            stmt = stmt.where(_prefix(Product.name, q))
        if after:
            name, _, pid = after.rpartition("|")
            if pid.isdigit():
                stmt = stmt.where(sa.tuple_(Product.name, Product.id) > (name, int(pid)))
        stmt = stmt.order_by(Product.name, Product.id)
    else:
        if q:
            stmt = stmt.where(_prefix(Product.sku, q))
        if after:
            stmt = stmt.where(Product.sku > after)
        stmt = stmt.order_by(Product.sku)
    rows = db.session.scalars(stmt.limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    return rows, (f"{last.name}|{last.id}" if field == "name" else last.sku)


def orders_page(account_id: int, number: str = "", after: str | None = None,
                size: int = PAGE) -> tuple[list[Order], str | None]:
    """Newest first by (placed_at, id), or by number prefix."""
    stmt = Order.scoped(account_id)
    if number:
        stmt = stmt.where(_prefix(Order.number, number))
        if after:
            num, _, oid = after.rpartition("|")
            if oid.isdigit():
                stmt = stmt.where(sa.tuple_(Order.number, Order.id) > (num, int(oid)))
        stmt = stmt.order_by(Order.number, Order.id)
    else:
        stmt = stmt.where(Order.placed_at.is_not(None))
        if after:
            ts, _, oid = after.rpartition("|")
            try:
                at = datetime.fromisoformat(ts)
                stmt = stmt.where(sa.tuple_(Order.placed_at, Order.id) < (at, int(oid)))
            except ValueError:
                pass
        stmt = stmt.order_by(Order.placed_at.desc(), Order.id.desc())
    rows = db.session.scalars(stmt.limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    return rows, (f"{last.number}|{last.id}" if number
                  else f"{last.placed_at.isoformat()}|{last.id}")


def runs_page(account_id: int, procedure_id: int | None = None, status: str = "",
              trigger: str = "", day: str = "", before: int | None = None,
              size: int = PAGE) -> tuple[list[Run], int | None]:
    stmt = Run.scoped(account_id)
    if procedure_id:
        stmt = stmt.where(Run.procedure_id == procedure_id)
    if status:
        stmt = stmt.where(Run.status == status)
    if trigger:
        stmt = stmt.where(Run.trigger == trigger)
    if day:
        try:
            start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
            stmt = stmt.where(Run.created_at >= start, Run.created_at < start + timedelta(days=1))
        except ValueError:
            pass
    if before:
        stmt = stmt.where(Run.id < before)
    rows = db.session.scalars(stmt.order_by(Run.id.desc()).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)


def failed_items(step_ids: list[int], after: int | None = None,
                 size: int = PAGE) -> tuple[list[StepItem], int | None]:
    if not step_ids:
        return [], None
    stmt = sa.select(StepItem).where(StepItem.step_run_id.in_(step_ids),
                                     StepItem.outcome == "failed")
    if after:
        stmt = stmt.where(StepItem.id > after)
    rows = db.session.scalars(stmt.order_by(StepItem.id).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)
