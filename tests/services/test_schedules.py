"""Schedules: the pure is_due, firing through start_run, and the rq-scheduler tick."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Procedure, Run
from app.services.schedules import (ScheduleError, fire_due_procedures, is_due,
                                    validate_schedule)
from tests import builders as b

UTC = timezone.utc


def proc(**kw):
    defaults = dict(enabled=True, schedule_kind="interval", interval_minutes=5, cron=None,
                    window_start=None, window_end=None, timezone="UTC", last_scheduled_at=None,
                    schedule_failures=0, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    defaults.update(kw)
    return Procedure(**defaults)


def at(h, m=0):
    return datetime(2026, 11, 27, h, m, tzinfo=UTC)


def test_interval_is_due_after_its_minutes():
    p = proc(last_scheduled_at=at(10))
    assert not is_due(p, at(10, 4))
    assert is_due(p, at(10, 5))
    assert is_due(proc(), at(10))  # never ran


def test_failures_back_off_the_next_run():
    p = proc(last_scheduled_at=at(10), schedule_failures=3)  # 2^3 - 1 = 7 more minutes
    assert not is_due(p, at(10, 11))
    assert is_due(p, at(10, 12))


def test_cron_and_window_in_the_procedures_time_zone():
    p = proc(schedule_kind="cron", cron="*/15 * * * *", last_scheduled_at=at(10))
    assert not is_due(p, at(10, 14)) and is_due(p, at(10, 15))
    rome = proc(window_start="08:00", window_end="20:00", timezone="Europe/Rome")
    assert is_due(rome, at(7, 30))        # 08:30 in Rome
    assert not is_due(rome, at(19, 30))   # 20:30 in Rome
    night = proc(window_start="22:00", window_end="06:00")
    assert is_due(night, at(23)) and is_due(night, at(5)) and not is_due(night, at(12))


def test_disabled_or_unscheduled_is_never_due():
    assert not is_due(proc(enabled=False), at(10))
    assert not is_due(proc(schedule_kind="none"), at(10))


def test_schedule_validation_says_what_is_wrong():
    with pytest.raises(ScheduleError, match="cron"):
        validate_schedule("cron", None, "every day", None, None, "UTC")
    with pytest.raises(ScheduleError, match="both"):
        validate_schedule("interval", 5, None, "08:00", None, "UTC")
    with pytest.raises(ScheduleError, match="time zone"):
        validate_schedule("interval", 5, None, None, None, "Mars/Olympus")
    validate_schedule("cron", None, "*/15 8-20 * * 1-5", "08:00", "20:00", "Europe/Rome")


def test_due_procedures_fire_through_start_run_and_edits_take_effect(ctx):
    acc = b.account()
    every5 = b.template(acc, "every_5_minutes")
    started = fire_due_procedures(at(10))
    run = db.session.get(Run, started[0])
    assert run.procedure_id == every5.id and run.trigger == "schedule"
    assert fire_due_procedures(at(10, 1)) == []  # not due for another 4 minutes
    every5.interval_minutes = 1  # an edit in the portal: no restart needed
    db.session.commit()
    assert fire_due_procedures(at(10, 2)) == [run.id]  # still queued: coalesced, not a pile
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Run)) == 1


def test_the_tick_survives_a_flushed_redis_and_fires_due_procedures(ctx, work):
    from app.jobs.schedule import TICK_JOB_ID, PonteScheduler, ensure_tick
    from app.queues import redis_connection
    acc = b.account()
    scheduler = PonteScheduler(queue_name="periodic", connection=redis_connection())
    assert ensure_tick(scheduler) is True and ensure_tick(scheduler) is False
    redis_connection().flushdb()  # Redis restarted empty
    assert TICK_JOB_ID not in scheduler
    scheduler.enqueue_jobs()  # the scheduler's loop re-declares the tick, then moves it
    assert TICK_JOB_ID in scheduler
    work(("periodic", "sync"))
    run = db.session.scalar(sa.select(Run))
    assert run.trigger == "schedule" and run.procedure_id == b.template(
        acc, "every_5_minutes").id
    assert run.status == "succeeded"  # no nodes yet: nothing to do, done
