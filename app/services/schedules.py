"""Schedules live in the database; `is_due` is a pure function the tick asks every minute.

Interval or cron, an optional daily time window in the procedure's time zone, and back-off
after failed runs (2^failures - 1 minutes extra, at most an hour), as Redash does.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from croniter import croniter

from app.extensions import db
from app.models import Procedure, ScheduleKind, Trigger, utcnow


class ScheduleError(ValueError):
    pass


def parse_hhmm(text: str) -> time:
    try:
        h, m = text.split(":")
        return time(int(h), int(m))
    except (ValueError, AttributeError):
        raise ScheduleError(f"{text!r} is not a time of day like 08:30")


def validate_schedule(kind: str, interval_minutes: int | None, cron: str | None,
                      window_start: str | None, window_end: str | None, tz: str) -> None:
    if kind == ScheduleKind.INTERVAL.value and not (interval_minutes and interval_minutes >= 1):
        raise ScheduleError("an interval schedule needs a number of minutes (1 or more)")
    if kind == ScheduleKind.CRON.value and not (cron and croniter.is_valid(cron)):
        raise ScheduleError(f"{cron!r} is not a valid cron expression (e.g. */15 8-20 * * 1-5)")
    if bool(window_start) != bool(window_end):
        raise ScheduleError("a time window needs both a start and an end")
    if window_start:
        parse_hhmm(window_start), parse_hhmm(window_end)
    try:
        ZoneInfo(tz)
    except Exception:
        raise ScheduleError(f"unknown time zone {tz!r}")


def in_window(proc: Procedure, now: datetime) -> bool:
    if not proc.window_start or not proc.window_end:
        return True
    local = now.astimezone(ZoneInfo(proc.timezone or "UTC")).time()
    start, end = parse_hhmm(proc.window_start), parse_hhmm(proc.window_end)
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # a window across midnight, e.g. 22:00-06:00


def backoff(failures: int) -> timedelta:
    return timedelta(minutes=min(2 ** min(failures, 6) - 1, 60)) if failures else timedelta(0)


def is_due(proc: Procedure, now: datetime) -> bool:
    if not proc.enabled or proc.schedule_kind == ScheduleKind.NONE.value:
        return False
    if not in_window(proc, now):
        return False
    last = proc.last_scheduled_at
    if proc.schedule_kind == ScheduleKind.INTERVAL.value:
        if not proc.interval_minutes:
            return False
        return last is None or \
            now >= last + timedelta(minutes=proc.interval_minutes) + backoff(
                proc.schedule_failures)
    if proc.schedule_kind == ScheduleKind.CRON.value and proc.cron:
        tz = ZoneInfo(proc.timezone or "UTC")
        base = (last or proc.created_at).astimezone(tz)
        next_at = croniter(proc.cron, base).get_next(datetime)
        return now >= next_at.astimezone(now.tzinfo) + backoff(proc.schedule_failures)
    return False


def fire_due_procedures(now: datetime | None = None) -> list[int]:
    """Start every due procedure through start_run; returns the run ids started or joined."""
    from .runs import RunError, start_run
    now = now or utcnow()
    started = []
    procs = db.session.scalars(sa.select(Procedure).where(
        Procedure.enabled.is_(True),
        Procedure.schedule_kind != ScheduleKind.NONE.value)).all()
    for proc in procs:
        if not is_due(proc, now):
            continue
        proc.last_scheduled_at = now
        db.session.commit()
        try:
            result = start_run(proc.account_id, proc.id, Trigger.SCHEDULE.value, "schedule")
            started.append(result.run.id)
        except RunError:
            continue
    return started
