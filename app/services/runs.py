"""Starting runs: the one choke point every trigger goes through.

`start_run` checks the tenant and that the procedure is enabled, coalesces triggers (one
queued run at most, plus one follow-up while a run is running), writes the Run and commits,
and only then enqueues one RQ job per step, chained with depends_on, and a closing job.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from rq import Queue
from rq.job import Dependency

from app.extensions import db
from app.models import Procedure, Run, RunStatus, StepRun, StepStatus, Trigger, utcnow
from app.queues import get_queue

SYNC_QUEUE = "sync"


class RunError(Exception):
    pass


@dataclass
class StartedRun:
    run: Run
    coalesced: bool


def start_run(account_id: int, procedure_id: int, trigger: str, triggered_by: str | None = None,
              only_items: dict | None = None, retry_of_id: int | None = None) -> StartedRun:
    proc = Procedure.get_owned(account_id, procedure_id)
    if proc is None:
        raise RunError("no such procedure")
    if not proc.enabled:
        raise RunError(f"procedure {proc.name!r} is disabled")
    for _ in range(3):  # the partial unique index settles races between two triggers
        active = db.session.scalar(sa.select(Run).where(
            Run.procedure_id == proc.id, Run.status.in_(RunStatus.active())))
        if active is not None:
            if active.status == RunStatus.RUNNING.value and not active.follow_up \
                    and only_items is None:
                active.follow_up = True
                db.session.commit()
            return StartedRun(active, True)
        run = Run(account_id=account_id, procedure_id=proc.id, trigger=trigger,
                  triggered_by=triggered_by, status=RunStatus.QUEUED.value,
                  only_items=only_items, retry_of_id=retry_of_id)
        for step in proc.steps:
            run.steps.append(StepRun(account_id=account_id, position=step.position,
                                     connector_id=step.connector_id, label=step.connector.label))
        db.session.add(run)
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            continue
        enqueue_chain(run, from_position=0)
        return StartedRun(run, False)
    raise RunError("could not start the run: too many concurrent triggers")


def enqueue_chain(run: Run, from_position: int, queue: Queue | None = None) -> None:
    """Enqueue the steps from `from_position` on, each depending on the one before, then close.

    allow_failure keeps the chain moving even if a step job dies with an exception: the next
    job reads the step statuses from the database and applies the failure policy itself.
    """
    from app.jobs.runs import close_run, execute_step
    queue = queue or get_queue(SYNC_QUEUE)
    timeout = current_app.config["JOB_TIMEOUT_SECONDS"]
    previous = None
    steps = [s for s in run.steps if s.position >= from_position]
    for step in steps:
        depends = Dependency(jobs=[previous], allow_failure=True) if previous else None
        job = queue.enqueue(execute_step, step.id, depends_on=depends, job_timeout=timeout,
                            failure_ttl=7 * 86400, result_ttl=86400,
                            description=f"run {run.id} step {step.position}: {step.label}")
        step.job_id = job.id
        previous = job
    depends = Dependency(jobs=[previous], allow_failure=True) if previous else None
    queue.enqueue(close_run, run.id, depends_on=depends, result_ttl=86400,
                  job_id=f"ponte-close-run-{run.id}-{utcnow().timestamp():.0f}",
                  description=f"close run {run.id}")
    db.session.commit()


def final_status(steps: list[StepRun]) -> str:
    statuses = {s.status for s in steps}
    if StepStatus.FAILED.value in statuses:
        return RunStatus.FAILED.value if statuses <= {StepStatus.FAILED.value,
                                                      StepStatus.SKIPPED.value} \
            else RunStatus.PARTIAL.value
    if StepStatus.PARTIAL.value in statuses:
        return RunStatus.PARTIAL.value
    return RunStatus.SUCCEEDED.value


def close_run(run_id: int) -> Run | None:
    """Set the run's final status; start the follow-up run if a trigger was coalesced."""
    run = db.session.get(Run, run_id, with_for_update=True)
    if run is None or run.status not in RunStatus.active():
        return run
    for step in run.steps:  # a step that never ran (e.g. its job vanished) did not succeed
        if step.status in (StepStatus.PENDING.value, StepStatus.RUNNING.value):
            step.status = StepStatus.FAILED.value
            step.error = step.error or "the step did not run to completion"
            step.finished_at = utcnow()
    run.status = final_status(run.steps)
    run.finished_at = utcnow()
    run.started_at = run.started_at or run.finished_at
    failed = [s for s in run.steps if s.status == StepStatus.FAILED.value]
    if failed and not run.error:
        run.error = "; ".join(f"{s.label}: {s.error}" for s in failed if s.error)[:2000] or None
    follow_up = run.follow_up
    proc = run.procedure
    proc.schedule_failures = proc.schedule_failures + 1 \
        if run.status == RunStatus.FAILED.value else 0
    db.session.commit()
    if follow_up and proc.enabled:
        start_run(run.account_id, run.procedure_id, run.trigger, "follow-up of run %d" % run.id)
    return run


def retry_run(account_id: int, run_id: int, only_failed_items: bool,
              triggered_by: str | None = None) -> StartedRun:
    """Run a finished run's procedure again, or only the items that failed in it."""
    from app.models import ItemOutcome, StepItem
    run = Run.get_owned(account_id, run_id)
    if run is None:
        raise RunError("no such run")
    if run.status in RunStatus.active():
        raise RunError("this run has not finished yet")
    only = None
    if only_failed_items:
        only = {}
        for step in run.steps:
            refs = db.session.scalars(sa.select(StepItem.ref).where(
                StepItem.step_run_id == step.id,
                StepItem.outcome == ItemOutcome.FAILED.value)).all()
            only[str(step.position)] = sorted(set(refs))
    return start_run(account_id, run.procedure_id, Trigger.RETRY.value, triggered_by,
                     only_items=only, retry_of_id=run.id)
