"""The sandbox store's page: its catalogue and a form to place a test order."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from app.extensions import db
from app.models import Node, SandboxOrder, SandboxProduct
from app.platforms.sandbox.shop import OutOfStockError, place_order

from . import bp
from .forms import SandboxOrderForm
from .helpers import owned_public

PAGE = 50


def _sandbox(node_id: str) -> Node:
    node = owned_public(Node, node_id)
    if node.platform != "sandbox":
        abort(404)
    return node


def _page(node: Node, form: SandboxOrderForm, status: int = 200):
    after = request.args.get("after", "")
    q = sa.select(SandboxProduct).where(SandboxProduct.account_id == node.account_id,
                                        SandboxProduct.node_id == node.id)
    if after:
        q = q.where(SandboxProduct.sku > after)
    rows = db.session.scalars(q.order_by(SandboxProduct.sku).limit(PAGE + 1)).all()
    cursor = rows[PAGE - 1].sku if len(rows) > PAGE else None
    orders = db.session.scalars(sa.select(SandboxOrder).where(
        SandboxOrder.account_id == node.account_id, SandboxOrder.node_id == node.id)
        .order_by(SandboxOrder.id.desc()).limit(10)).all()
    return render_template("portal/sandbox.html", node=node, products=rows[:PAGE],
                           cursor=cursor, form=form, orders=orders), status


@bp.route("/sandbox/<node_id>")
def sandbox(node_id: str):
    return _page(_sandbox(node_id), SandboxOrderForm())


@bp.route("/sandbox/<node_id>/orders", methods=["POST"])
def sandbox_order(node_id: str):
    node = _sandbox(node_id)
    form = SandboxOrderForm()
    if not form.validate_on_submit():
        return _page(node, form, 422)
    lines: dict[str, int] = {}
    for entry in form.lines.entries:
        sku, qty = (entry.form.sku.data or "").strip(), entry.form.quantity.data
        if sku and qty:
            lines[sku] = lines.get(sku, 0) + qty
    try:
        order = place_order(node.account_id, node.id, lines,
                            customer={"email": form.email.data, "first_name": "Test",
                                      "last_name": "Customer"}, paid=form.paid.data)
    except OutOfStockError as exc:
        db.session.rollback()
        form.lines.errors = list(form.lines.errors) + [
            f"The shop refused the order: {exc}. Nothing was ordered."]
        return _page(node, form, 422)
    db.session.commit()
    flash(f"Test order {order.number} placed in {node.name}. The next run that downloads "
          "orders brings it into the hub.", "info")
    return redirect(url_for("portal.sandbox", node_id=node.public_id))
