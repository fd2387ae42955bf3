"""The account's team: invite a user with a one-time password, change roles, remove.

Only owners call these (the portal checks); the account always keeps one owner.
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa

from app.extensions import db
from app.models import Role, User

from .accounts import AccountError, create_user


def invite_user(account_id: int, email: str, role: str) -> tuple[User, str]:
    """A new user and their one-time password (shown once; there is no email here)."""
    password = secrets.token_urlsafe(12)
    return create_user(account_id, email, password, role), password


def _owners(account_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.account_id == account_id, User.role == Role.OWNER.value, User.active.is_(True)))


def change_role(user: User, role: str) -> None:
    if role not in {r.value for r in Role}:
        raise AccountError(f"unknown role {role!r}")
    if user.role == Role.OWNER.value and role != Role.OWNER.value \
            and _owners(user.account_id) <= 1:
        raise AccountError("the account needs at least one owner")
    user.role = role


def remove_user(user: User, acting: User) -> None:
    if user.id == acting.id:
        raise AccountError("you cannot remove yourself")
    if user.role == Role.OWNER.value and _owners(user.account_id) <= 1:
        raise AccountError("the account needs at least one owner")
    db.session.delete(user)
