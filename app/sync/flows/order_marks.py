"""Telling the source store, once, that an order reached the ERP (StoreAdapter.mark_exported).

Runs inside the store's order_import step, after its pages: each order of this node that an
ERP has (erp_acknowledged_at, set by the feed's acknowledgment or a push delivery) and that
the store was not told about yet is marked (a note or a status, per the store's settings), and
store_marked_at is committed right after, so a re-run never marks an order twice. A refused
mark is that order's failure and is tried again on the next run; so is the rest of the list
when the store stops answering. Cancelled orders are left alone.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import ItemOutcome, Order, OrderBinding, utcnow
from app.platforms.errors import ItemError, RetryLaterError

from .order_export import order_record

REACHED = ("delivered", "acknowledged")  # binding statuses that carry the ERP's reference


def unmarked_orders(node_id: int) -> list[Order]:
    return db.session.scalars(sa.select(Order).where(
        Order.source_node_id == node_id, Order.erp_acknowledged_at.is_not(None),
        Order.store_marked_at.is_(None), Order.cancelled_at.is_(None)).order_by(Order.id)).all()


def erp_refs(orders: list[Order]) -> dict[int, str]:
    """order id -> the ERP's document number, when the ERP gave one."""
    return dict(db.session.execute(sa.select(OrderBinding.order_id, OrderBinding.external_id)
                                   .where(OrderBinding.order_id.in_([o.id for o in orders]),
                                          OrderBinding.status.in_(REACHED),
                                          OrderBinding.external_id.is_not(None))).all())


def mark_exported_orders(ctx) -> None:
    orders = unmarked_orders(ctx.node.id)
    if not orders:
        return
    refs = erp_refs(orders)
    rec = ctx.recorder
    rec.add_total(len(orders))
    for order in orders:
        ref = refs.get(order.id)
        try:
            ctx.adapter.mark_exported(order_record(order), ref)
        except ItemError as exc:
            rec.item(order.number, ItemOutcome.FAILED.value,
                     f"not marked as sent to the ERP: {exc.message}")
            continue
        except RetryLaterError as exc:
            rec.item(order.number, ItemOutcome.FAILED.value,
                     f"not marked as sent to the ERP: {exc}")
            break  # the store stopped answering: the others wait for the next run
        order.store_marked_at = utcnow()
        rec.item(order.number, ItemOutcome.UPDATED.value,
                 f"marked on the store as sent to the ERP{f' as {ref}' if ref else ''}")
        rec.flush()  # committed before the next one: a crash after a mark never repeats it
