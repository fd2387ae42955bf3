"""Nodes: list, add (form from the adapter's settings_fields), edit, disable, test, connectors."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from app.extensions import db
from app.models import Connector, Node, NodeStatus
from app.platforms.registry import UnknownPlatformError, adapter_class, available
from app.services import nodes as node_service
from app.services.procedures import refresh_template_steps

from . import bp
from .forms import ConnectorForm, node_form_class, split_node_form
from .helpers import account_id, confirmed, owned, owned_public


def settings_fields(platform: str) -> list[dict]:
    try:
        return list(getattr(adapter_class(platform), "settings_fields", None) or [])
    except (UnknownPlatformError, ImportError):
        return []


def _name_taken(name: str, exclude: int | None = None) -> bool:
    q = Node.scoped(account_id()).where(Node.name == name.strip())
    if exclude:
        q = q.where(Node.id != exclude)
    return db.session.scalar(q) is not None


@bp.route("/nodes")
def nodes():
    rows = db.session.scalars(Node.scoped(account_id()).order_by(Node.name)).all()
    return render_template("portal/nodes.html", nodes=rows)


@bp.route("/nodes/new")
def node_new():
    return render_template("portal/node_choose.html", platforms=available())


@bp.route("/nodes/new/<platform>", methods=["GET", "POST"])
def node_add(platform: str):
    platforms = available()
    if platform not in platforms:
        abort(404)
    fields = settings_fields(platform)
    form = node_form_class(fields, editing=False)()
    if form.validate_on_submit():
        if _name_taken(form.name.data):
            form.name.errors.append("Another node has this name.")
        else:
            settings, credentials = split_node_form(form, fields)
            node = node_service.create_node(account_id(), platform, form.name.data,
                                            settings=settings, credentials=credentials or None)
            db.session.commit()
            flash(f"Node {node.name} added.", "info")
            return redirect(url_for("portal.node", node_id=node.public_id))
    return render_template("portal/node_form.html", form=form, fields=fields,
                           platform=platform, label=platforms[platform].label, node=None)


@bp.route("/nodes/<node_id>", methods=["GET", "POST"])
def node(node_id: str):
    node = owned_public(Node, node_id)
    fields = settings_fields(node.platform)
    form_class = node_form_class(fields, editing=True)
    if request.method == "POST":
        form = form_class()
    else:  # stored settings shown back; secret fields never are (password inputs, blank)
        data = {"name": node.name}
        data.update({"f_" + f["name"]: (node.settings or {}).get(f["name"], f.get("default"))
                     for f in fields if not f.get("secret")})
        form = form_class(data=data)
    if form.validate_on_submit():
        if _name_taken(form.name.data, exclude=node.id):
            form.name.errors.append("Another node has this name.")
        else:
            settings, credentials = split_node_form(form, fields)
            node.name = form.name.data.strip()
            node.settings = {**(node.settings or {}), **settings}
            if any(credentials.values()):
                node_service.set_credentials(node, credentials)
            db.session.commit()
            flash("Node saved. Blank secret fields kept their stored value.", "info")
            return redirect(url_for("portal.node", node_id=node.public_id))
    keys = sorted(node.keys, key=lambda k: k.id, reverse=True)
    active_ids = {k.id for k in node_service.active_keys(node.id)} if node.kind == "erp" else set()
    return render_template("portal/node.html", node=node, form=form, fields=fields,
                           keys=keys, active_ids=active_ids,
                           public_url=current_app.config["PUBLIC_URL"].rstrip("/"),
                           connectors=sorted(node.connectors, key=lambda c: c.id))


@bp.route("/nodes/<node_id>/disable", methods=["POST"])
def node_disable(node_id: str):
    node = owned_public(Node, node_id)
    ask = confirmed(f"Disable {node.name}?",
                    "Its steps are skipped and it leaves the templated procedures until you "
                    "enable it again. Nothing is deleted.", "Disable node")
    if ask is not None:
        return ask
    node.status, node.status_message = NodeStatus.DISABLED.value, "disabled in the portal"
    refresh_template_steps(node.account_id)
    db.session.commit()
    flash(f"{node.name} is disabled.", "info")
    return redirect(url_for("portal.node", node_id=node.public_id))


@bp.route("/nodes/<node_id>/enable", methods=["POST"])
def node_enable(node_id: str):
    node = owned_public(Node, node_id)
    node.status, node.status_message = NodeStatus.ACTIVE.value, None
    refresh_template_steps(node.account_id)
    db.session.commit()
    flash(f"{node.name} is enabled.", "info")
    return redirect(url_for("portal.node", node_id=node.public_id))


@bp.route("/nodes/<node_id>/test", methods=["POST"])
def node_test(node_id: str):
    from app.sync.engine import adapter_for
    node = owned_public(Node, node_id)
    adapter = None
    try:
        adapter = adapter_for(node)
        facts = adapter.test_connection() or {}
        text = ", ".join(f"{k}: {v}" for k, v in facts.items()) or "no details"
        flash(f"Connection to {node.name} works — {text}", "info")
    except Exception as exc:  # any failure is the answer the merchant asked for
        flash(f"Connection to {node.name} failed: {type(exc).__name__}: {exc}", "error")
    finally:
        if adapter is not None:
            adapter.close()
    return redirect(url_for("portal.node", node_id=node.public_id))


@bp.route("/nodes/<node_id>/connectors/<int:connector_id>", methods=["GET", "POST"])
def connector(node_id: str, connector_id: int):
    node = owned_public(Node, node_id)
    conn = owned(Connector, connector_id)
    if conn.node_id != node.id:
        abort(404)
    s = conn.settings or {}
    form = ConnectorForm(data=None if request.method == "POST" else {
        "mode": conn.mode, "enabled": conn.enabled, "buffer": s.get("buffer"),
        "max_quantity": s.get("max_quantity"), "percentage": s.get("percentage"),
        "order_filter": s.get("order_filter", "paid"),
        "missing_products": s.get("missing_products", "leave"),
        "overlap_seconds": s.get("overlap_seconds")})
    names = ConnectorForm.KIND_FIELDS.get(conn.kind, ())
    for other in {n for ns in ConnectorForm.KIND_FIELDS.values() for n in ns} - set(names):
        del form[other]  # only this kind's parameters are shown, submitted and validated
    if form.validate_on_submit():
        conn.mode, conn.enabled = form.mode.data, form.enabled.data
        merged = {**s, **{n: getattr(form, n).data for n in names}}
        conn.settings = {k: v for k, v in merged.items() if v is not None}  # blank = default
        refresh_template_steps(node.account_id)
        db.session.commit()
        flash("Connector saved.", "info")
        return redirect(url_for("portal.node", node_id=node.public_id))
    return render_template("portal/connector.html", node=node, conn=conn, form=form,
                           names=names)
