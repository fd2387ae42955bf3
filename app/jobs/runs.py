"""The RQ jobs of a run: one per step, then the closing job. Ids in, engine out."""
from __future__ import annotations

import sqlalchemy as sa
from rq import get_current_job

from app.extensions import db
from app.models import FailurePolicy, Run, RunStatus, StepRun, StepStatus, utcnow

from .context import job_context

FINISHED = (StepStatus.SUCCEEDED.value, StepStatus.PARTIAL.value, StepStatus.FAILED.value,
            StepStatus.SKIPPED.value)


def execute_step(step_run_id: int) -> str:
    with job_context():
        from app.sync import engine
        step = db.session.get(StepRun, step_run_id)
        if step is None or step.status in FINISHED:
            return "nothing to do"  # a re-delivered job after the step already ended
        job = get_current_job()
        if job is not None and step.job_id and job.id != step.job_id:
            return "superseded"  # the reaper re-enqueued this step under a new job
        run = step.run
        if run.status not in RunStatus.active():
            return "run already closed"
        earlier_failed = db.session.scalar(sa.select(sa.func.count()).where(
            StepRun.run_id == run.id, StepRun.position < step.position,
            StepRun.status == StepStatus.FAILED.value))
        if earlier_failed and run.procedure.failure_policy == FailurePolicy.STOP.value:
            step.status, step.finished_at = StepStatus.SKIPPED.value, utcnow()
            step.error = "skipped: an earlier step failed"
            db.session.commit()
            return "skipped"
        now = utcnow()
        if run.status == RunStatus.QUEUED.value:
            run.status, run.started_at = RunStatus.RUNNING.value, now
        step.status, step.started_at, step.heartbeat_at = StepStatus.RUNNING.value, now, now
        step.attempts += 1
        db.session.commit()
        only = None
        if run.only_items is not None:
            only = run.only_items.get(str(step.position), [])
        engine.execute(step, only)
        return db.session.get(StepRun, step_run_id).status


def close_run(run_id: int) -> str | None:
    with job_context():
        from app.services.runs import close_run as close
        run = close(run_id)
        return run.status if run else None
