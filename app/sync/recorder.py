"""Records a step's progress: counters, per-item outcomes and a heartbeat, committed in batches.

Flows report every item here; unchanged items are only counted (millions of rows otherwise),
and past `success_cap` successes per step (catalogue-wide flows set it) only failures and held
items are stored: a first import of 100,000 products needs its counters, not 100,000 rows.
Flows call `checkpoint()` only where their staged rows are consistent (after a page, a batch,
one delivered order), because a flush commits the session. The heartbeat tells the reaper
the step is alive.
"""
from __future__ import annotations

import time

import sqlalchemy as sa

from app.extensions import db
from app.models import ItemOutcome, StepItem, StepRun, utcnow

COUNTER = {ItemOutcome.CREATED.value: "created", ItemOutcome.UPDATED.value: "updated",
           ItemOutcome.FAILED.value: "failed"}


class StepRecorder:
    def __init__(self, step: StepRun, flush_every: int = 500, flush_seconds: float = 2.0,
                 success_cap: int | None = None):
        self.step_id = step.id
        self.account_id = step.account_id
        self.counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0, "done": 0}
        self.total: int | None = step.items_total
        self.pending: list[dict] = []
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self._last_flush = time.monotonic()
        self.success_cap = success_cap
        self._successes = 0

    def set_total(self, total: int | None) -> None:
        self.total = total

    def add_total(self, n: int) -> None:
        self.total = (self.total or 0) + n

    def item(self, ref: str, outcome: str, message: str | None = None) -> None:
        if outcome in COUNTER:
            self.counts[COUNTER[outcome]] += 1
        self.counts["done"] += 1
        if outcome in (ItemOutcome.CREATED.value, ItemOutcome.UPDATED.value):
            self._successes += 1
            if self.success_cap is not None and self._successes > self.success_cap:
                return
        self.pending.append({"account_id": self.account_id, "step_run_id": self.step_id,
                             "ref": str(ref)[:128], "outcome": outcome,
                             "message": message[:2000] if message else None,
                             "created_at": utcnow()})

    def unchanged(self, n: int = 1) -> None:
        self.counts["unchanged"] += n
        self.counts["done"] += n

    def checkpoint(self) -> None:
        """Commit now if enough has happened since the last commit."""
        if len(self.pending) >= self.flush_every or \
                time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write items and counters and commit, with whatever the flow staged so far."""
        if self.pending:
            db.session.execute(StepItem.__table__.insert(), self.pending)
            self.pending = []
        c = self.counts
        db.session.execute(sa.update(StepRun).where(StepRun.id == self.step_id).values(
            created=c["created"], updated=c["updated"], unchanged=c["unchanged"],
            failed=c["failed"], items_done=c["done"], items_total=self.total,
            heartbeat_at=utcnow()))
        db.session.commit()
        self._last_flush = time.monotonic()
