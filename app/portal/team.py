"""The team page: only the owner lists, invites, changes roles and removes users."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.extensions import db
from app.models import User
from app.services.accounts import AccountError
from app.services.team import change_role, invite_user, remove_user

from . import bp
from .forms import InviteForm, RoleForm
from .helpers import account_id, confirmed, owned, require_owner


def _users():
    return db.session.scalars(User.scoped(account_id()).order_by(User.email)).all()


@bp.route("/team")
def team():
    require_owner()
    return render_template("portal/team.html", users=_users(), form=InviteForm(),
                           role_form=RoleForm)


@bp.route("/team/invite", methods=["POST"])
def team_invite():
    require_owner()
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user, password = invite_user(account_id(), form.email.data, form.role.data)
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            return render_template("portal/invited.html", user=user, password=password)
    return render_template("portal/team.html", users=_users(), form=form,
                           role_form=RoleForm), 422


@bp.route("/team/<int:user_id>/role", methods=["POST"])
def team_role(user_id: int):
    require_owner()
    user = owned(User, user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            change_role(user, form.role.data)
            db.session.commit()
            flash(f"{user.email} is now {user.role}.", "info")
        except AccountError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    else:
        flash("Choose a role.", "error")
    return redirect(url_for("portal.team"))


@bp.route("/team/<int:user_id>/remove", methods=["POST"])
def team_remove(user_id: int):
    require_owner()
    user = owned(User, user_id)
    ask = confirmed(f"Remove {user.email}?", "They can no longer log in.", "Remove user")
    if ask is not None:
        return ask
    try:
        remove_user(user, current_user)
        db.session.commit()
        flash(f"{user.email} removed.", "info")
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("portal.team"))
