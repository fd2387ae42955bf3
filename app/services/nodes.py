"""Saving nodes: their encrypted credentials, their connectors, their ERP signing keys."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.crypto import decrypt_json, decrypt_text, encrypt_json, encrypt_text
from app.extensions import db
from app.ids import public_id
from app.models import (Connector, ConnectorKind, ConnectorMode, Node, NodeKey, NodeKind,
                        NodeStatus, utcnow)
from app.platforms.registry import adapter_class

# The connectors a node gets when it is created, by node kind.
DEFAULT_CONNECTORS = {
    NodeKind.ERP.value: [(ConnectorKind.PRODUCT_IMPORT, ConnectorMode.FULL),
                         (ConnectorKind.PRODUCT_IMPORT, ConnectorMode.QUANTITY),
                         (ConnectorKind.ORDER_EXPORT, ConnectorMode.FULL)],
    NodeKind.STORE.value: [(ConnectorKind.PRODUCT_EXPORT, ConnectorMode.FULL),
                           (ConnectorKind.PRODUCT_EXPORT, ConnectorMode.QUANTITY),
                           (ConnectorKind.ORDER_IMPORT, ConnectorMode.FULL)],
}
DEFAULT_CONNECTORS[NodeKind.MARKETPLACE.value] = DEFAULT_CONNECTORS[NodeKind.STORE.value]

MAX_ACTIVE_KEYS = 2


class NodeError(Exception):
    pass


def create_node(account_id: int, platform: str, name: str, settings: dict | None = None,
                credentials: dict | None = None) -> Node:
    cls = adapter_class(platform)
    node = Node(account_id=account_id, public_id=public_id("nd"), kind=cls.node_kind,
                platform=platform, name=name.strip(), settings=settings or {},
                credentials_encrypted=encrypt_json(credentials) if credentials else None)
    db.session.add(node)
    db.session.flush()
    for kind, mode in DEFAULT_CONNECTORS[node.kind]:
        db.session.add(Connector(account_id=account_id, node_id=node.id, kind=kind.value,
                                 mode=mode.value, settings={}, state={}))
    db.session.flush()
    from .procedures import refresh_template_steps
    refresh_template_steps(account_id)
    return node


def set_credentials(node: Node, credentials: dict) -> None:
    """Write-only: merged over what is stored, so a blank field keeps its secret."""
    stored = decrypt_json(node.credentials_encrypted)
    stored.update({k: v for k, v in credentials.items() if v})
    node.credentials_encrypted = encrypt_json(stored)
    if node.status == NodeStatus.AUTH_FAILED.value:
        node.status, node.status_message = NodeStatus.ACTIVE.value, None


def node_credentials(node: Node) -> dict:
    return decrypt_json(node.credentials_encrypted)


def stop_node(node_id: int, message: str) -> None:
    """Credentials were rejected: stop the node until the merchant fixes them."""
    db.session.execute(sa.update(Node).where(Node.id == node_id).values(
        status=NodeStatus.AUTH_FAILED.value, status_message=message))


def create_key(node: Node, expires_at: datetime | None = None) -> tuple[NodeKey, str]:
    """A new signing key; the secret is returned once and stored only encrypted."""
    if node.kind != NodeKind.ERP.value:
        raise NodeError("only ERP nodes have signing keys")
    active = active_keys(node.id)
    if len(active) >= MAX_ACTIVE_KEYS:
        raise NodeError("this node has two active keys already: revoke the older one first")
    secret = "pnt_sk_" + secrets.token_hex(24)
    key = NodeKey(account_id=node.account_id, node_id=node.id,
                  key_id="pk_" + secrets.token_hex(8), secret_encrypted=encrypt_text(secret),
                  expires_at=expires_at)
    db.session.add(key)
    db.session.flush()
    return key, secret


def rotate_key(node: Node, overlap: timedelta = timedelta(days=7)) -> tuple[NodeKey, str]:
    """A new key; the older active keys keep working for `overlap`, then expire."""
    ends = utcnow() + overlap
    olds = active_keys(node.id)
    if len(olds) >= MAX_ACTIVE_KEYS:
        revoke_key(olds[0])
        olds = olds[1:]
    for old in olds:
        old.expires_at = min(old.expires_at or ends, ends)
    return create_key(node)


def revoke_key(key: NodeKey) -> None:
    key.revoked_at = utcnow()


def active_keys(node_id: int) -> list[NodeKey]:
    now = utcnow()
    keys = db.session.scalars(sa.select(NodeKey).where(
        NodeKey.node_id == node_id, NodeKey.revoked_at.is_(None)).order_by(NodeKey.id)).all()
    return [k for k in keys if k.expires_at is None or k.expires_at > now]


def key_secret(key: NodeKey) -> str:
    return decrypt_text(key.secret_encrypted)
