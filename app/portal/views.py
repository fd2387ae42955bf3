"""Dashboard, the worker ping, and "sync now"."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.models import Node, Procedure, Run, Trigger
from app.queues import get_queue
from app.services import overview

from . import bp
from .charts import grouped_bars
from .helpers import account_id, owned_public


@bp.route("/")
def dashboard():
    acc = account_id()
    nodes = db.session.scalars(Node.scoped(acc).order_by(Node.name)).all()
    procedures = db.session.scalars(Procedure.scoped(acc).order_by(Procedure.name)).all()
    runs = db.session.scalars(Run.scoped(acc).order_by(Run.id.desc()).limit(10)).all()
    waiting_total, waiting = overview.waiting_orders(acc)
    axis, per_day = overview.orders_per_day(acc)
    durations = overview.run_durations(acc)
    orders_chart = grouped_bars("Orders per day per channel (last 14 days)",
                                [d.strftime("%d %b") for d in axis], per_day)
    runs_chart = grouped_bars("Run durations (last 30 finished runs, seconds)",
                              [f"#{r.id}" for r, _ in durations],
                              {"duration": [round(s, 1) for _, s in durations]} if durations
                              else {}, unit="s")
    return render_template("portal/dashboard.html", nodes=nodes, procedures=procedures,
                           runs=runs, waiting=waiting, waiting_total=waiting_total,
                           drift=overview.quantity_drift(acc), orders_chart=orders_chart,
                           runs_chart=runs_chart)


@bp.route("/system/ping", methods=["POST"])
def ping():
    """Proves web -> Redis -> worker: the page polls the job's result."""
    from app.jobs.system import ping as ping_job
    job = get_queue("default").enqueue(ping_job, current_user.account_id,
                                       meta={"account_id": current_user.account_id})
    return jsonify({"job_id": job.id}), 202


@bp.route("/system/ping/<job_id>")
def ping_result(job_id: str):
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

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
    from app.services.runs import RunError, start_run
    proc = owned_public(Procedure, procedure_id)
    try:
        result = start_run(current_user.account_id, proc.id, Trigger.MANUAL.value,
                           current_user.email)
    except RunError as exc:
        flash(str(exc), "error")
        return redirect(url_for("portal.procedure", procedure_id=proc.public_id))
    if result.coalesced:
        flash(f"{proc.name}: a run is already under way (run {result.run.id}); "
              "your request will be covered by it or by one follow-up run.", "info")
    else:
        flash(f"{proc.name}: run {result.run.id} started.", "info")
    if request.form.get("next") == "dashboard":
        return redirect(url_for("portal.dashboard"))
    return redirect(url_for("portal.run", run_id=result.run.id))
