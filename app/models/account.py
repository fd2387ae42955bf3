"""Accounts (tenants) and the people who log in to them."""
from __future__ import annotations

import enum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import AccountOwned, TimestampMixin


class Role(str, enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    VIEWER = "viewer"


class Account(TimestampMixin, db.Model):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    users = relationship("User", back_populates="account")


class User(UserMixin, AccountOwned, TimestampMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.VIEWER.value)
    active: Mapped[bool] = mapped_column(default=True)
    account = relationship("Account", back_populates="users")

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def can_write(self) -> bool:
        return self.role in (Role.OWNER.value, Role.ADMIN.value)
