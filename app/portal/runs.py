"""Run history with filters, a run's page with failed items and live progress, re-runs."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.models import Procedure, Run, RunStatus, Trigger
from app.services import listings
from app.services.runs import RunError, retry_run

from . import bp
from .helpers import account_id, owned


@bp.route("/runs")
def runs():
    acc = account_id()
    procs = db.session.scalars(Procedure.scoped(acc).order_by(Procedure.name)).all()
    f = {k: request.args.get(k, "").strip() for k in ("procedure", "status", "trigger", "day")}
    proc = next((p for p in procs if p.public_id == f["procedure"]), None)
    before = request.args.get("before", type=int)
    rows, next_before = listings.runs_page(
        acc, procedure_id=proc.id if proc else None, status=f["status"], trigger=f["trigger"],
        day=f["day"], before=before)
    return render_template("portal/runs.html", runs=rows, next_before=next_before,
                           procedures=procs, filters=f, statuses=[s.value for s in RunStatus],
                           triggers=[t.value for t in Trigger], paged=bool(before))


def _progress(run: Run) -> dict:
    return {"id": run.id, "status": run.status, "active": run.status in RunStatus.active(),
            "steps": [{"position": s.position, "label": s.label, "status": s.status,
                       "items_done": s.items_done, "items_total": s.items_total,
                       "created": s.created, "updated": s.updated, "unchanged": s.unchanged,
                       "failed": s.failed, "error": s.error} for s in run.steps]}


@bp.route("/runs/<int:run_id>")
def run(run_id: int):
    run = owned(Run, run_id)
    after = request.args.get("after", type=int)
    items, next_after = listings.failed_items([s.id for s in run.steps], after=after)
    labels = {s.id: s.label for s in run.steps}
    return render_template("portal/run.html", run=run, items=items, next_after=next_after,
                           labels=labels, active=run.status in RunStatus.active())


@bp.route("/runs/<int:run_id>/progress.json")
def run_progress(run_id: int):
    return jsonify(_progress(owned(Run, run_id)))


@bp.route("/runs/<int:run_id>/retry", methods=["POST"])
def run_retry(run_id: int):
    run = owned(Run, run_id)
    only_failed = request.form.get("only_failed") == "1"
    try:
        result = retry_run(account_id(), run.id, only_failed_items=only_failed,
                           triggered_by=current_user.email)
    except RunError as exc:
        flash(str(exc), "error")
        return redirect(url_for("portal.run", run_id=run.id))
    what = "the failed items of" if only_failed else "the procedure of"
    if result.coalesced:
        flash(f"A run of this procedure is already under way (run {result.run.id}).", "info")
    else:
        flash(f"Re-running {what} run {run.id}: run {result.run.id}.", "info")
    return redirect(url_for("portal.run", run_id=result.run.id))
