"""Flask-Login wiring and the role guard shared by every portal route."""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort
from flask_login import current_user

from app.extensions import db, login_manager
from app.models import User


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def require_writer(view):
    """Viewers can look but not change: every state-changing route carries this."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.can_write:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def current_account_id() -> int:
    return current_user.account_id
