"""Shared view helpers: tenant look-ups that 404, confirmation of destructive actions."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, render_template, request
from flask_login import current_user

from . import bp


def account_id() -> int:
    return current_user.account_id


def owned(model, row_id):
    """The current account's row with this integer id, or 404 (never another tenant's)."""
    try:
        row_id = int(row_id)
    except (TypeError, ValueError):
        abort(404)
    row = model.get_owned(account_id(), row_id)
    if row is None:
        abort(404)
    return row


def owned_public(model, public_id: str):
    row = model.get_owned_by_public_id(account_id(), public_id)
    if row is None:
        abort(404)
    return row


def confirmed(title: str, message: str, button: str = "Confirm"):
    """None when the POST carries confirm=yes; otherwise the page that asks for it.

    Destructive actions post once without it, get this page, and post again from it, so
    nothing is lost without a second, deliberate click (works without JavaScript).
    """
    if request.form.get("confirm") == "yes":
        return None
    fields = {k: v for k, v in request.form.items() if k not in ("csrf_token", "confirm")}
    return render_template("portal/confirm.html", title=title, message=message,
                           button=button, action=request.path, fields=fields,
                           back=_same_site(request.referrer))


def _same_site(url: str | None) -> str | None:
    return url if url and url.startswith(request.host_url) else None


def ago(when: datetime | None) -> str:
    """'3 min', '2 h 5 min', '4 d': how long since `when`."""
    if when is None:
        return "—"
    seconds = int((datetime.now(timezone.utc) - when).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} d"


def fmt_time(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else "—"


def require_owner():
    if current_user.role != "owner":
        abort(403)


@bp.app_template_filter("ago")
def _ago_filter(when):
    return ago(when)


@bp.app_template_filter("when")
def _when_filter(when):
    return fmt_time(when)
