"""The reaper: no run stays queued or running forever.

A step whose heartbeat went stale (its worker died) is re-enqueued, up to MAX_ATTEMPTS, then
failed; a run whose next job vanished (Redis restarted empty) gets its chain enqueued again;
a run with every step finished gets closed. Re-running a step is safe: bindings make every
flow idempotent, and an order already in the ERP is found before it is created again.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from app.extensions import db
from app.models import Run, RunStatus, StepStatus, utcnow
from app.queues import redis_connection

from .runs import close_run, enqueue_chain

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
ALIVE = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.STARTED, JobStatus.SCHEDULED)


def _job_alive(job_id: str | None) -> bool:
    if not job_id:
        return False
    try:
        return Job.fetch(job_id, connection=redis_connection()).get_status() in ALIVE
    except NoSuchJobError:
        return False


def reap_stale_runs(now=None) -> dict:
    now = now or utcnow()
    stale = timedelta(seconds=current_app.config["STEP_STALE_SECONDS"])
    report = {"requeued": 0, "failed_steps": 0, "closed": 0}
    runs = db.session.scalars(sa.select(Run).where(Run.status.in_(RunStatus.active()))).all()
    for run in runs:
        running = [s for s in run.steps if s.status == StepStatus.RUNNING.value]
        pending = [s for s in run.steps if s.status == StepStatus.PENDING.value]
        if running:
            step = running[0]
            if step.heartbeat_at and now - step.heartbeat_at < stale:
                continue
            if step.attempts >= MAX_ATTEMPTS:
                step.status, step.finished_at = StepStatus.FAILED.value, now
                step.error = f"the worker stopped during this step {step.attempts} times"
                report["failed_steps"] += 1
                from_position = step.position + 1
            else:
                step.status = StepStatus.PENDING.value  # run it again from the start
                from_position = step.position
            log.warning("run %s step %s: stale heartbeat, re-enqueued from step %s",
                        run.id, step.id, from_position)
            enqueue_chain(run, from_position)
            report["requeued"] += 1
        elif pending:
            if now - run.created_at < stale or _job_alive(pending[0].job_id):
                continue
            log.warning("run %s: the job of step %s is gone, re-enqueued", run.id, pending[0].id)
            enqueue_chain(run, pending[0].position)
            report["requeued"] += 1
        elif now - max([s.finished_at for s in run.steps if s.finished_at] or
                       [run.created_at]) >= stale:
            close_run(run.id)
            report["closed"] += 1
    db.session.commit()
    return report
