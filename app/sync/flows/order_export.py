"""OrderExport (hub -> ERP): every qualifying order reaches the ERP exactly once.

Feed ERPs (file ERP): the order is offered on /erp/v1 until the ERP acknowledges it.
Push ERPs: the adapter is asked for the order by the hub's reference before creating it, and
the binding is committed right after delivery, so a re-run after a crash never duplicates.
Orders that do not qualify yet (e.g. unpaid) are held and re-checked on every run.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import ItemOutcome, Order, OrderBinding, utcnow
from app.platforms.errors import ItemError
from app.platforms.records import OrderLineRecord, OrderRecord

DONE = ("offered", "delivered", "acknowledged")


def order_record(o: Order) -> OrderRecord:
    return OrderRecord(
        external_id=o.external_id, number=o.number, status=o.status,
        updated_at=o.store_updated_at or o.updated_at, placed_at=o.placed_at, paid=o.paid,
        currency=o.currency, total=o.total, tax_total=o.tax_total,
        shipping_total=o.shipping_total, payment_method=o.payment_method,
        customer=dict(o.customer or {}), billing_address=dict(o.billing_address or {}),
        shipping_address=dict(o.shipping_address or {}), platform_status=o.platform_status,
        lines=[OrderLineRecord(sku=ln.sku, quantity=ln.quantity, name=ln.name,
                               unit_price=ln.unit_price, total=ln.total, tax=ln.tax,
                               external_id=ln.external_id) for ln in o.lines])


class OrderExport:
    def __init__(self, ctx):
        self.ctx = ctx
        self.node_id = ctx.node.id
        self.account_id = ctx.account_id
        self.only_paid = ctx.connector.settings.get("order_filter", "paid") == "paid"

    def qualifies(self, order: Order) -> str | None:
        """None when the order may go to the ERP now, else why it waits."""
        if self.only_paid and not order.paid:
            return "waiting for payment"
        return None

    def run(self) -> None:
        done = sa.select(OrderBinding.order_id).where(OrderBinding.node_id == self.node_id,
                                                      OrderBinding.status.in_(DONE))
        q = (sa.select(Order).where(Order.account_id == self.account_id,
                                    Order.cancelled_at.is_(None), Order.id.not_in(done))
             .order_by(Order.id))
        if self.ctx.only_refs is not None:
            # Re-running failed items: numbers are only unique per store, so take just the
            # orders with those numbers whose delivery to this ERP failed.
            failed = sa.select(OrderBinding.order_id).where(
                OrderBinding.node_id == self.node_id, OrderBinding.status == "failed")
            q = q.where(Order.number.in_(self.ctx.only_refs or [""]), Order.id.in_(failed))
        orders = db.session.scalars(q).all()
        self.ctx.recorder.set_total(len(orders))
        bindings = {b.order_id: b for b in db.session.scalars(sa.select(OrderBinding).where(
            OrderBinding.node_id == self.node_id,
            OrderBinding.order_id.in_([o.id for o in orders])))}
        feed = self.ctx.adapter.order_delivery == "feed"
        for order in orders:
            binding = bindings.get(order.id) or OrderBinding(
                account_id=self.account_id, node_id=self.node_id, order_id=order.id)
            reason = self.qualifies(order)
            if reason:
                if binding.status != "held":
                    self.ctx.recorder.item(order.number, ItemOutcome.HELD.value, reason)
                else:
                    self.ctx.recorder.unchanged()
                binding.status, binding.last_error = "held", reason
            elif feed:
                binding.status, binding.offered_at = "offered", utcnow()
                self.ctx.recorder.item(order.number, ItemOutcome.CREATED.value,
                                       "offered on the order feed")
            else:
                self._push(order, binding)
            # Added only now that it has a status: _push lazy-loads the order's lines, and
            # that autoflush would insert a new status-less binding (NOT NULL).
            db.session.add(binding)
            self.ctx.recorder.flush() if not feed else self.ctx.recorder.checkpoint()
        self.ctx.recorder.flush()

    def _push(self, order: Order, binding: OrderBinding) -> None:
        adapter = self.ctx.adapter
        try:
            erp_ref = adapter.find_order(order.public_id)
            found = erp_ref is not None
            if not found:
                erp_ref = adapter.deliver_order(order_record(order), order.public_id)
        except ItemError as exc:
            binding.status, binding.last_error, binding.last_error_at = \
                "failed", exc.message, utcnow()
            self.ctx.recorder.item(order.number, ItemOutcome.FAILED.value, exc.message)
            return
        now = utcnow()
        binding.status, binding.external_id, binding.last_error = "delivered", erp_ref, None
        binding.acknowledged_at = now
        order.erp_acknowledged_at = order.erp_acknowledged_at or now
        self.ctx.recorder.item(order.number, ItemOutcome.CREATED.value,
                               f"{'already in' if found else 'delivered to'} the ERP as {erp_ref}")
