"""The periodic tick and the scheduler process.

rq-scheduler enqueues `tick` every minute; the tick asks the database what is due and reaps
stale runs. The scheduler re-declares the tick on every loop, so a flushed Redis loses nothing:
the schedules themselves live in the database.
"""
from __future__ import annotations

import logging

from rq_scheduler import Scheduler

from .context import job_context

log = logging.getLogger(__name__)
TICK_JOB_ID = "ponte-tick"
TICK_SECONDS = 60


def tick() -> dict:
    with job_context():
        from app.services.history import prune_history
        from app.services.reaper import reap_stale_runs
        from app.services.schedules import fire_due_procedures
        started = fire_due_procedures()
        reaped = reap_stale_runs()
        return {"started": started, **reaped, **prune_history()}


def ensure_tick(scheduler: Scheduler, interval: int = TICK_SECONDS) -> bool:
    """Declare the tick once (idempotent by job id); True when it had to be (re)created."""
    if TICK_JOB_ID in scheduler:
        return False
    from datetime import datetime, timezone
    scheduler.schedule(scheduled_time=datetime.now(timezone.utc), func=tick, interval=interval,
                       repeat=None, id=TICK_JOB_ID, queue_name="periodic",
                       result_ttl=interval * 10, timeout=interval * 5)
    log.info("scheduled the tick every %ss", interval)
    return True


class PonteScheduler(Scheduler):
    def enqueue_jobs(self):
        ensure_tick(self)
        return super().enqueue_jobs()


def run_scheduler(app, interval: int) -> None:
    from app.queues import redis_connection
    with app.app_context():
        scheduler = PonteScheduler(queue_name="periodic", connection=redis_connection(app),
                                   interval=interval)
        ensure_tick(scheduler)
        scheduler.run()
