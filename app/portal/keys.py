"""Signing keys of ERP nodes: create, rotate, revoke. A new secret is shown once, here."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for

from app.extensions import db
from app.models import Node, NodeKey
from app.services import nodes as node_service

from . import bp
from .helpers import confirmed, owned_public


def _erp(node_id: str) -> Node:
    node = owned_public(Node, node_id)
    if node.kind != "erp":
        abort(404)
    return node


def _shown_once(node: Node, key: NodeKey, secret: str):
    db.session.commit()
    return render_template("portal/key_created.html", node=node, key=key, secret=secret,
                           public_url=current_app.config["PUBLIC_URL"].rstrip("/"))


@bp.route("/nodes/<node_id>/keys", methods=["POST"])
def key_create(node_id: str):
    node = _erp(node_id)
    try:
        key, secret = node_service.create_key(node)
    except node_service.NodeError as exc:
        flash(str(exc), "error")
        return redirect(url_for("portal.node", node_id=node.public_id))
    return _shown_once(node, key, secret)


@bp.route("/nodes/<node_id>/keys/rotate", methods=["POST"])
def key_rotate(node_id: str):
    node = _erp(node_id)
    key, secret = node_service.rotate_key(node)
    return _shown_once(node, key, secret)


@bp.route("/nodes/<node_id>/keys/<key_id>/revoke", methods=["POST"])
def key_revoke(node_id: str, key_id: str):
    node = _erp(node_id)
    key = db.session.scalar(NodeKey.scoped(node.account_id).where(
        NodeKey.node_id == node.id, NodeKey.key_id == key_id))
    if key is None:
        abort(404)
    ask = confirmed(f"Revoke key {key.key_id}?",
                    "Calls signed with it are refused at once. This cannot be undone.",
                    "Revoke key")
    if ask is not None:
        return ask
    node_service.revoke_key(key)
    db.session.commit()
    flash(f"Key {key.key_id} revoked.", "info")
    return redirect(url_for("portal.node", node_id=node.public_id))
