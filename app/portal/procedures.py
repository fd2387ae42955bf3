"""Procedures: list, create (from a template or empty), settings and schedule, steps, URLs."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from app.extensions import db
from app.models import Connector, Node, Procedure, ProcedureStep
from app.services import procedure_steps as steps_service
from app.services.procedures import TEMPLATES, create_from_template, new_trigger_token

from . import bp
from .forms import AddStepForm, NewProcedureForm, ProcedureForm, choices
from .helpers import account_id, confirmed, owned, owned_public


@bp.route("/procedures")
def procedures():
    rows = db.session.scalars(Procedure.scoped(account_id()).order_by(Procedure.name)).all()
    return render_template("portal/procedures.html", procedures=rows)


@bp.route("/procedures/new", methods=["GET", "POST"])
def procedure_new():
    form = NewProcedureForm()
    form.template.choices = choices([("", "an empty procedure (add steps yourself)")] + [
        (key, spec["name"]) for key, spec in TEMPLATES.items()])
    if form.validate_on_submit():
        if form.template.data:
            proc = create_from_template(account_id(), form.template.data)
            if (form.name.data or "").strip():
                proc.name = form.name.data.strip()
        else:
            proc = steps_service.create_empty(account_id(), form.name.data)
        db.session.commit()
        flash(f"Procedure {proc.name} created.", "info")
        return redirect(url_for("portal.procedure", procedure_id=proc.public_id))
    return render_template("portal/procedure_new.html", form=form)


def _connector_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(Connector.scoped(account_id()).join(Node)
                              .order_by(Node.name, Connector.kind, Connector.mode)).all()
    return choices((c.id, c.label + ("" if c.enabled else " — disabled")) for c in rows)


@bp.route("/procedures/<procedure_id>", methods=["GET", "POST"])
def procedure(procedure_id: str):
    proc = owned_public(Procedure, procedure_id)
    form = ProcedureForm(obj=None if request.method == "POST" else proc)
    if form.validate_on_submit():
        try:
            steps_service.update_settings(
                proc, name=form.name.data, enabled=form.enabled.data,
                failure_policy=form.failure_policy.data, schedule_kind=form.schedule_kind.data,
                interval_minutes=form.interval_minutes.data, cron=form.cron.data,
                window_start=form.window_start.data, window_end=form.window_end.data,
                tz=form.timezone.data)
        except steps_service.ScheduleError as exc:
            _schedule_error(form, str(exc))
        else:
            db.session.commit()
            flash("Procedure saved.", "info")
            return redirect(url_for("portal.procedure", procedure_id=proc.public_id))
    add_form = AddStepForm(formdata=None)
    add_form.connector_id.choices = _connector_choices()
    return render_template("portal/procedure.html", proc=proc, form=form, add_form=add_form,
                           public_url=current_app.config["PUBLIC_URL"].rstrip("/")), \
        (422 if form.errors else 200)


def _schedule_error(form: ProcedureForm, message: str) -> None:
    """Put the service's message next to the field it is about."""
    lower = message.lower()
    if "interval" in lower:
        target = form.interval_minutes
    elif "cron" in lower:
        target = form.cron
    elif "window" in lower or "time of day" in lower:
        target = form.window_start
    elif "time zone" in lower:
        target = form.timezone
    else:
        target = form.schedule_kind
    target.errors = list(target.errors) + [message]


@bp.route("/procedures/<procedure_id>/steps", methods=["POST"])
def step_add(procedure_id: str):
    proc = owned_public(Procedure, procedure_id)
    form = AddStepForm()
    form.connector_id.choices = _connector_choices()
    if not form.validate_on_submit():
        flash("Choose a connector to add.", "error")
    else:
        steps_service.add_step(proc, owned(Connector, form.connector_id.data))
        db.session.commit()
        flash("Step added. This procedure no longer follows its template.", "info")
    return redirect(url_for("portal.procedure", procedure_id=proc.public_id) + "#steps")


def _step(proc: Procedure, step_id: int) -> ProcedureStep:
    step = owned(ProcedureStep, step_id)
    if step.procedure_id != proc.id:
        abort(404)
    return step


@bp.route("/procedures/<procedure_id>/steps/<int:step_id>/move", methods=["POST"])
def step_move(procedure_id: str, step_id: int):
    proc = owned_public(Procedure, procedure_id)
    step = _step(proc, step_id)
    try:
        steps_service.move_step(proc, step, -1 if request.form.get("direction") == "up" else 1)
        db.session.commit()
    except steps_service.StepError as exc:
        flash(str(exc), "error")
    return redirect(url_for("portal.procedure", procedure_id=proc.public_id) + "#steps")


@bp.route("/procedures/<procedure_id>/steps/<int:step_id>/delete", methods=["POST"])
def step_delete(procedure_id: str, step_id: int):
    proc = owned_public(Procedure, procedure_id)
    step = _step(proc, step_id)
    ask = confirmed(f"Remove step {step.position + 1}?",
                    f"“{step.connector.label}” will no longer run in {proc.name}.",
                    "Remove step")
    if ask is not None:
        return ask
    steps_service.remove_step(proc, step)
    db.session.commit()
    flash("Step removed.", "info")
    return redirect(url_for("portal.procedure", procedure_id=proc.public_id) + "#steps")


@bp.route("/procedures/<procedure_id>/trigger-token", methods=["POST"])
def trigger_token(procedure_id: str):
    proc = owned_public(Procedure, procedure_id)
    ask = None
    if proc.trigger_token_hash:
        ask = confirmed("Replace the static trigger URL?",
                        "The current URL stops working at once.", "Make a new URL")
    if ask is not None:
        return ask
    token = new_trigger_token(proc)
    db.session.commit()
    url = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("hooks.static_trigger",
                                                                 token=token)
    return render_template("portal/trigger_created.html", proc=proc, url=url)
