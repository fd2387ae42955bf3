"""Nodes (configured ERPs, stores, marketplaces) and the signing keys of ERP nodes."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import AccountOwned, TimestampMixin, UTCDateTime


class NodeKind(str, enum.Enum):
    ERP = "erp"
    STORE = "store"
    MARKETPLACE = "marketplace"


class NodeStatus(str, enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"            # switched off by the merchant
    AUTH_FAILED = "auth_failed"      # the platform rejected the credentials; fix them to resume


class Node(AccountOwned, TimestampMixin, db.Model):
    __tablename__ = "nodes"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    platform: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(120))
    credentials_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default=NodeStatus.ACTIVE.value)
    status_message: Mapped[str | None] = mapped_column(sa.Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connectors = relationship("Connector", back_populates="node", cascade="all, delete-orphan")
    keys = relationship("NodeKey", back_populates="node", cascade="all, delete-orphan")


class NodeKey(AccountOwned, TimestampMixin, db.Model):
    """A signing key of an ERP node (PONTE-HMAC-SHA256-V1); two may be active to rotate."""
    __tablename__ = "node_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"),
                                         index=True)
    key_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    secret_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    node = relationship("Node", back_populates="keys")
