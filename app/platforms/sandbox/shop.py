"""The sandbox shop's storage: plays the part of a store's own database and API.

Orders are listed by (updated_at, id) like a real store's modified_after filter; placing an
order lowers stock and refuses to sell what is not there.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from app.models import SandboxOrder, SandboxProduct, utcnow

from ..errors import ItemError
from ..records import OrderLineRecord, OrderRecord, ProductRecord


class OutOfStockError(Exception):
    pass


def count_products(node_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(SandboxProduct.node_id == node_id))


def ids_by_sku(node_id: int, skus: list[str]) -> dict[str, int]:
    rows = db.session.execute(sa.select(SandboxProduct.sku, SandboxProduct.id).where(
        SandboxProduct.node_id == node_id, SandboxProduct.sku.in_(skus)))
    return dict(rows.all())


def upsert_product(account_id: int, node_id: int, record: ProductRecord,
                   external_id: str | None) -> tuple[int, bool]:
    if not record.name:
        raise ItemError(record.sku, "a product needs a name")
    product = None
    if external_id:
        product = db.session.get(SandboxProduct, int(external_id))
    if product is None:
        product = db.session.scalar(sa.select(SandboxProduct).where(
            SandboxProduct.node_id == node_id, SandboxProduct.sku == record.sku))
    created = product is None
    if created:
        product = SandboxProduct(account_id=account_id, node_id=node_id, sku=record.sku)
        db.session.add(product)
    product.name = record.name
    product.price = record.price
    if record.quantity is not None:
        product.stock = record.quantity
    product.data = {"description": record.description, "images": record.images,
                    "parent_sku": record.parent_sku, "attributes": record.attributes}
    db.session.flush()
    return product.id, created


def set_stock(node_id: int, stock_by_id: dict[int, int]) -> set[int]:
    """Set stock by the shop's ids; returns the ids the shop does not have."""
    products = db.session.scalars(sa.select(SandboxProduct).where(
        SandboxProduct.node_id == node_id, SandboxProduct.id.in_(list(stock_by_id)))).all()
    for p in products:
        p.stock = stock_by_id[p.id]
    db.session.flush()
    return set(stock_by_id) - {p.id for p in products}


def place_order(account_id: int, node_id: int, lines: dict[str, int],
                customer: dict | None = None, paid: bool = True) -> SandboxOrder:
    """A customer's order: refuses to oversell, like a store that manages stock."""
    products = {p.sku: p for p in db.session.scalars(sa.select(SandboxProduct).where(
        SandboxProduct.node_id == node_id, SandboxProduct.sku.in_(list(lines)))).all()}
    order_lines, total = [], Decimal("0")
    for sku, qty in lines.items():
        p = products.get(sku)
        if p is None:
            raise OutOfStockError(f"{sku} is not sold in this shop")
        if qty <= 0 or p.stock < qty:
            raise OutOfStockError(f"{sku}: only {p.stock} left")
        p.stock -= qty
        price = p.price or Decimal("0")
        total += price * qty
        order_lines.append({"sku": sku, "quantity": qty, "price": str(price), "name": p.name})
    now = utcnow()
    count = db.session.scalar(sa.select(sa.func.count()).where(SandboxOrder.node_id == node_id))
    order = SandboxOrder(account_id=account_id, node_id=node_id, number=f"SB-{count + 1:05d}",
                         status="processing" if paid else "pending",
                         paid_at=now if paid else None, lines=order_lines, total=total,
                         customer=customer or {"email": "test.customer@example.com",
                                               "first_name": "Test", "last_name": "Customer"},
                         created_at=now, updated_at=now)
    db.session.add(order)
    db.session.flush()
    return order


def set_order_status(node_id: int, order_id: int, status: str) -> None:
    order = db.session.get(SandboxOrder, order_id)
    if order is None or order.node_id != node_id:
        raise KeyError(order_id)
    order.status = status
    if status == "processing" and order.paid_at is None:
        order.paid_at = utcnow()
    order.updated_at = utcnow()


def add_note(node_id: int, order_id: int, note: str) -> None:
    # A note does not bump updated_at: it must not make the order look changed to the hub.
    db.session.execute(sa.update(SandboxOrder).where(
        SandboxOrder.node_id == node_id, SandboxOrder.id == order_id).values(note=note))


STATUS = {"pending": "pending", "processing": "paid", "completed": "completed",
          "cancelled": "cancelled", "refunded": "refunded"}


def orders_page(node_id: int, since: datetime | None, after_id: int, size: int
                ) -> list[tuple[int, OrderRecord]]:
    q = sa.select(SandboxOrder).where(SandboxOrder.node_id == node_id,
                                      SandboxOrder.id > after_id)
    if since is not None:
        q = q.where(SandboxOrder.updated_at >= since)
    rows = db.session.scalars(q.order_by(SandboxOrder.id).limit(size)).all()
    return [(o.id, _record(o)) for o in rows]


def _record(o: SandboxOrder) -> OrderRecord:
    return OrderRecord(
        external_id=str(o.id), number=o.number, status=STATUS.get(o.status, o.status),
        platform_status=o.status, updated_at=o.updated_at, placed_at=o.created_at,
        paid=o.paid_at is not None, currency="EUR", total=o.total, tax_total=Decimal("0"),
        shipping_total=Decimal("0"), payment_method="sandbox", customer=dict(o.customer),
        billing_address=dict(o.customer), shipping_address=dict(o.customer),
        lines=[OrderLineRecord(sku=line["sku"], quantity=int(line["quantity"]),
                               name=line.get("name"), unit_price=Decimal(line["price"]),
                               total=Decimal(line["price"]) * int(line["quantity"]))
               for line in o.lines])
