"""What the ERP-facing API does: store uploads, offer the order feed, take acknowledgments."""
from __future__ import annotations

import csv
import io
import zlib

import sqlalchemy as sa

from app.extensions import db
from app.models import Node, Order, OrderBinding, ProductUpload, utcnow
from app.sync import product_file

FEED_COLUMNS = ["order_id", "store_order_id", "number", "source", "placed_at", "status", "paid",
                "currency", "total", "customer_email", "customer_name", "sku", "quantity",
                "unit_price", "line_total"]


class UploadRejected(Exception):
    def __init__(self, report):
        super().__init__("upload rejected")
        self.report = report


def store_upload(node: Node, data: bytes, content_type: str, mode: str) -> ProductUpload:
    """Validate the whole file first: a rejected file stores nothing."""
    report = product_file.validate(data, content_type, mode)
    if not report.ok:
        raise UploadRejected(report)
    upload = ProductUpload(account_id=node.account_id, node_id=node.id, mode=mode,
                           content_type=content_type, rows=report.rows,
                           data=zlib.compress(data, 6), status="pending")
    db.session.add(upload)
    db.session.commit()
    return upload


def offered_orders(node: Node, limit: int) -> list[Order]:
    """Orders offered to this ERP and not acknowledged yet, oldest first."""
    return db.session.scalars(
        sa.select(Order).join(OrderBinding, OrderBinding.order_id == Order.id)
        .where(OrderBinding.node_id == node.id, OrderBinding.status == "offered",
               Order.cancelled_at.is_(None))
        .order_by(OrderBinding.offered_at, Order.id).limit(limit)).all()


def order_json(o: Order) -> dict:
    def money(v):
        return None if v is None else str(v)
    return {"order_id": o.public_id, "store_order_id": o.external_id, "number": o.number,
            "source": o.source_node.name, "source_platform": o.source_node.platform,
            "placed_at": o.placed_at.isoformat() if o.placed_at else None,
            "status": o.status, "paid": o.paid, "currency": o.currency,
            "total": money(o.total), "tax_total": money(o.tax_total),
            "shipping_total": money(o.shipping_total), "payment_method": o.payment_method,
            "customer": o.customer, "billing_address": o.billing_address,
            "shipping_address": o.shipping_address,
            "lines": [{"sku": ln.sku, "name": ln.name, "quantity": ln.quantity,
                       "unit_price": money(ln.unit_price), "total": money(ln.total),
                       "tax": money(ln.tax)} for ln in o.lines]}


def orders_csv(orders: list[Order]) -> str:
    """One row per order line, the order's columns repeated: what spreadsheet ERPs import."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(FEED_COLUMNS)
    for o in orders:
        d = order_json(o)
        name = " ".join(filter(None, [o.customer.get("first_name"), o.customer.get("last_name")]))
        for ln in d["lines"]:
            writer.writerow([d["order_id"], d["store_order_id"], d["number"], d["source"],
                             d["placed_at"], d["status"], d["paid"], d["currency"], d["total"],
                             o.customer.get("email"), name, ln["sku"], ln["quantity"],
                             ln["unit_price"], ln["total"]])
    return out.getvalue()


def acknowledge(node: Node, order_ids: list[str], erp_refs: dict[str, str]) -> dict:
    """Idempotent: acknowledging twice changes nothing; unknown ids are reported back."""
    orders = {o.public_id: o for o in db.session.scalars(sa.select(Order).where(
        Order.account_id == node.account_id, Order.public_id.in_(order_ids)))}
    bindings = {b.order_id: b for b in db.session.scalars(sa.select(OrderBinding).where(
        OrderBinding.node_id == node.id,
        OrderBinding.order_id.in_([o.id for o in orders.values()])))}
    now = utcnow()
    acknowledged, already, unknown = [], [], []
    for oid in order_ids:
        order = orders.get(oid)
        binding = bindings.get(order.id) if order else None
        if binding is None:
            unknown.append(oid)
            continue
        if binding.status == "acknowledged":
            already.append(oid)
            continue
        binding.status, binding.acknowledged_at = "acknowledged", now
        if erp_refs.get(oid):
            binding.external_id = str(erp_refs[oid])[:64]
        order.erp_acknowledged_at = order.erp_acknowledged_at or now
        acknowledged.append(oid)
    db.session.commit()
    return {"acknowledged": acknowledged, "already_acknowledged": already, "unknown": unknown}
