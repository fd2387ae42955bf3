"""OrderImport (store -> hub): incremental, idempotent per (node, store order id).

Reads from the connector's cursor minus an overlap window, commits each page, and moves the
cursor only after every page it covers is committed. A later change of an order on the store
updates the hub's order; a cancellation before the ERP had it stops its stock counting.
Then the store is told about the orders that have reached the ERP since (order_marks.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.ids import public_id
from app.models import ItemOutcome, Order, OrderLine, Product, utcnow
from app.platforms.records import OrderRecord

from .order_marks import mark_exported_orders

DEFAULT_OVERLAP_SECONDS = 300
HEADER_FIELDS = ("number", "status", "platform_status", "paid", "currency", "total",
                 "tax_total", "shipping_total", "payment_method", "customer",
                 "billing_address", "shipping_address")


class OrderImport:
    def __init__(self, ctx):
        self.ctx = ctx
        self.node_id = ctx.node.id
        self.account_id = ctx.account_id
        self.overlap = timedelta(seconds=int(ctx.connector.settings.get(
            "overlap_seconds", DEFAULT_OVERLAP_SECONDS)))

    def run(self) -> None:
        cursor = (self.ctx.connector.state or {}).get("cursor")
        cursor = datetime.fromisoformat(cursor) if cursor else None
        since = cursor - self.overlap if cursor else None
        newest = cursor
        for page in self.ctx.adapter.fetch_orders(since):
            self.ctx.recorder.add_total(len(page.orders))
            for record in page.orders:
                self._upsert(record)
                if newest is None or record.updated_at > newest:
                    newest = record.updated_at
            self.ctx.recorder.flush()  # the page is committed before the next is read
        if newest is not None:
            self.ctx.save_state(cursor=newest.isoformat())
        mark_exported_orders(self.ctx)  # orders the ERP has since the last run: tell the store

    def _upsert(self, r: OrderRecord) -> None:
        rec = self.ctx.recorder
        order = db.session.scalar(sa.select(Order).where(
            Order.source_node_id == self.node_id, Order.external_id == r.external_id))
        if order is None:
            order = Order(account_id=self.account_id, public_id=public_id("or"),
                          source_node_id=self.node_id, external_id=r.external_id,
                          placed_at=r.placed_at)
            self._copy(order, r)
            self._set_lines(order, r)
            db.session.add(order)
            rec.item(r.number, ItemOutcome.CREATED.value)
            return
        if order.store_updated_at and r.updated_at <= order.store_updated_at:
            rec.unchanged()  # the overlap window re-reads what we already have
            return
        before = order.status
        self._copy(order, r)
        if order.erp_acknowledged_at is None and \
                sorted((ln.sku, ln.quantity) for ln in order.lines) != \
                sorted((ln.sku, ln.quantity) for ln in r.lines):
            self._set_lines(order, r)  # the ERP has not got it yet: take the new lines
        rec.item(r.number, ItemOutcome.UPDATED.value,
                 f"status {before} -> {order.status}" if before != order.status else None)

    def _copy(self, order: Order, r: OrderRecord) -> None:
        for name in HEADER_FIELDS:
            setattr(order, name, getattr(r, name))
        order.store_updated_at = r.updated_at
        if r.status == "cancelled" and order.cancelled_at is None:
            order.cancelled_at = utcnow()

    def _set_lines(self, order: Order, r: OrderRecord) -> None:
        skus = [ln.sku for ln in r.lines]
        ids = dict(db.session.execute(sa.select(Product.sku, Product.id).where(
            Product.account_id == self.account_id, Product.sku.in_(skus))).all())
        order.lines.clear()
        for ln in r.lines:
            order.lines.append(OrderLine(
                account_id=self.account_id, sku=ln.sku, product_id=ids.get(ln.sku),
                name=ln.name, quantity=ln.quantity, unit_price=ln.unit_price, total=ln.total,
                tax=ln.tax, external_id=ln.external_id))
