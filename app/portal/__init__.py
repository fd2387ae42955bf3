"""The merchant portal: server-rendered pages behind a login, CSRF on every form."""
from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

bp = Blueprint("portal", __name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@bp.before_request
def guard():
    """Blueprint-wide: a forgotten decorator cannot open a page or let a viewer write."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if request.method not in SAFE_METHODS and not current_user.can_write:
        abort(403)


from . import (catalogue, nodes, keys, procedures, runs, sandbox, team,  # noqa: E402,F401
               views)
