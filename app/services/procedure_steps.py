"""Editing a procedure's steps by hand: add, remove, move; and its settings.

Editing the steps of a templated procedure detaches it from its template (template=None),
so refresh_template_steps stops re-deriving them. No Flask here; callers commit.
"""
from __future__ import annotations

from app.extensions import db
from app.ids import public_id
from app.models import Connector, Procedure, ProcedureStep

from .schedules import ScheduleError, validate_schedule


class StepError(Exception):
    pass


def create_empty(account_id: int, name: str) -> Procedure:
    proc = Procedure(account_id=account_id, public_id=public_id("pr"), name=name.strip(),
                     enabled=True)
    db.session.add(proc)
    db.session.flush()
    return proc


def _renumber(proc: Procedure, ordered: list[ProcedureStep]) -> None:
    """Positions are unique per procedure: park them out of the way, then number 0..n-1."""
    for i, step in enumerate(ordered):
        step.position = -1 - i
    db.session.flush()
    for i, step in enumerate(ordered):
        step.position = i
    db.session.flush()
    db.session.expire(proc, ["steps"])


def add_step(proc: Procedure, connector: Connector) -> ProcedureStep:
    if connector.account_id != proc.account_id:
        raise StepError("no such connector")
    position = max((s.position for s in proc.steps), default=-1) + 1
    step = ProcedureStep(account_id=proc.account_id, procedure_id=proc.id, position=position,
                         connector_id=connector.id)
    db.session.add(step)
    proc.template = None
    db.session.flush()
    db.session.expire(proc, ["steps"])
    return step


def remove_step(proc: Procedure, step: ProcedureStep) -> None:
    rest = [s for s in proc.steps if s.id != step.id]
    db.session.delete(step)
    db.session.flush()
    proc.template = None
    _renumber(proc, rest)


def move_step(proc: Procedure, step: ProcedureStep, offset: int) -> None:
    steps = list(proc.steps)
    i = next(i for i, s in enumerate(steps) if s.id == step.id)
    j = i + offset
    if not 0 <= j < len(steps):
        raise StepError("this step cannot move further")
    steps[i], steps[j] = steps[j], steps[i]
    proc.template = None
    _renumber(proc, steps)


def update_settings(proc: Procedure, *, name: str, enabled: bool, failure_policy: str,
                    schedule_kind: str, interval_minutes: int | None, cron: str | None,
                    window_start: str | None, window_end: str | None, tz: str) -> None:
    """Validate the schedule first: a ScheduleError changes nothing."""
    validate_schedule(schedule_kind, interval_minutes, cron, window_start, window_end, tz)
    proc.name, proc.enabled, proc.failure_policy = name.strip(), enabled, failure_policy
    proc.schedule_kind = schedule_kind
    proc.interval_minutes = interval_minutes if schedule_kind == "interval" else None
    proc.cron = cron.strip() if schedule_kind == "cron" and cron else None
    proc.window_start, proc.window_end = window_start or None, window_end or None
    proc.timezone = tz.strip()


__all__ = ["StepError", "ScheduleError", "create_empty", "add_step", "remove_step",
           "move_step", "update_settings"]
