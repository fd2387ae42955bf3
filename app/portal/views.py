"""Dashboard and the minimal run controls; the Portal issue grows this into full pages."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from app.extensions import db
from app.models import Node, Procedure, Run
from app.queues import get_queue

from . import bp


@bp.route("/")
def dashboard():
    account_id = current_user.account_id
    nodes = db.session.scalars(Node.scoped(account_id).order_by(Node.name)).all()
    procedures = db.session.scalars(Procedure.scoped(account_id).order_by(Procedure.name)).all()
    runs = db.session.scalars(Run.scoped(account_id).order_by(Run.id.desc()).limit(20)).all()
    return render_template("portal/dashboard.html", nodes=nodes, procedures=procedures,
                           runs=runs)


@bp.route("/system/ping", methods=["POST"])
def ping():
    """Proves web -> Redis -> worker: the page polls the job's result."""
    from app.jobs.system import ping as ping_job
    job = get_queue("default").enqueue(ping_job, current_user.account_id,
                                       meta={"account_id": current_user.account_id})
    return jsonify({"job_id": job.id}), 202


@bp.route("/system/ping/<job_id>")
def ping_result(job_id: str):
    from rq.job import Job
    from rq.exceptions import NoSuchJobError
    from app.queues import redis_connection
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        abort(404)
    if job.meta.get("account_id") != current_user.account_id:
        abort(404)
    return jsonify({"status": job.get_status().value, "result": job.return_value()})


@bp.route("/procedures/<procedure_id>/sync", methods=["POST"])
def sync_now(procedure_id: str):
    from app.models import Trigger
    from app.services.runs import RunError, start_run
    proc = Procedure.get_owned_by_public_id(current_user.account_id, procedure_id)
    if proc is None:
        abort(404)
    try:
        result = start_run(current_user.account_id, proc.id, Trigger.MANUAL.value,
                           current_user.email)
    except RunError as exc:
        flash(str(exc), "error")
        return redirect(url_for("portal.dashboard"))
    if result.coalesced:
        flash(f"{proc.name}: a run is already under way (run {result.run.id}); "
              "your request will be covered by it or by one follow-up run.", "info")
    else:
        flash(f"{proc.name}: run {result.run.id} started.", "info")
    return redirect(url_for("portal.dashboard"))
