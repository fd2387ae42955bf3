"""Login and logout: one answer for unknown email and wrong password, throttled in Redis."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user

from app.extensions import db
from app.models import User

from . import bp, throttle
from .forms import LoginForm
from .passwords import hash_password, needs_rehash, verify_password

BAD_LOGIN = "Email or password is not correct."


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot bounce a fresh login elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("portal.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        address = request.remote_addr or "unknown"
        wait = throttle.blocked_for(email, address)
        if wait:
            minutes = max(1, round(wait / 60))
            flash(f"Too many failed attempts. Try again in about {minutes} minute(s).", "error")
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(db.select(User).where(User.email == email))
        ok = verify_password(user.password_hash if user else None, form.password.data)
        if not ok or not user.is_active:
            throttle.record_failure(email, address)
            flash(BAD_LOGIN, "error")
            return render_template("auth/login.html", form=form), 401
        throttle.clear(email)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(form.password.data)
            db.session.commit()
        session.clear()  # a fresh session on login: no fixation
        session.permanent = True
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
