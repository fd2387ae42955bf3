"""Products and orders: prefix search, keyset pages, and one record with its bindings."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request

from app.extensions import db
from app.models import Node, Order, OrderBinding, Product, ProductBinding, StockEvent
from app.services import listings

from . import bp
from .helpers import account_id, owned, owned_public


@bp.route("/products")
def products():
    q = request.args.get("q", "").strip()[:64]
    field = "name" if request.args.get("by") == "name" else "sku"
    rows, cursor = listings.products_page(account_id(), q, field, request.args.get("after"))
    return render_template("portal/products.html", products=rows, cursor=cursor, q=q,
                           by=field, paged=bool(request.args.get("after")))


@bp.route("/products/<int:product_id>")
def product(product_id: int):
    product = owned(Product, product_id)
    bindings = db.session.execute(
        sa.select(ProductBinding, Node).join(Node, Node.id == ProductBinding.node_id)
        .where(ProductBinding.account_id == product.account_id,
               ProductBinding.product_id == product.id).order_by(Node.name)).all()
    changes = db.session.execute(
        sa.select(StockEvent, Node).join(Node, Node.id == StockEvent.node_id, isouter=True)
        .where(StockEvent.account_id == product.account_id,
               StockEvent.product_id == product.id)
        .order_by(StockEvent.created_at.desc(), StockEvent.id.desc()).limit(30)).all()
    return render_template("portal/product.html", product=product, bindings=bindings,
                           changes=changes)


@bp.route("/orders")
def orders():
    number = request.args.get("number", "").strip()[:64]
    rows, cursor = listings.orders_page(account_id(), number, request.args.get("after"))
    return render_template("portal/orders.html", orders=rows, cursor=cursor, number=number,
                           paged=bool(request.args.get("after")))


@bp.route("/orders/<order_id>")
def order(order_id: str):
    order = owned_public(Order, order_id)
    bindings = db.session.execute(
        sa.select(OrderBinding, Node).join(Node, Node.id == OrderBinding.node_id)
        .where(OrderBinding.account_id == order.account_id,
               OrderBinding.order_id == order.id).order_by(Node.name)).all()
    return render_template("portal/order.html", order=order, bindings=bindings)
