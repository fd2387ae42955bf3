"""Runs of procedures, their steps, and the per-item results: the durable sync history."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import AccountOwned, UTCDateTime, utcnow


class RunStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"      # finished, but some items failed
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def active(cls) -> tuple[str, ...]:
        return (cls.QUEUED.value, cls.RUNNING.value)


class StepStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"      # an earlier step failed and the policy is "stop"


class Trigger(str, enum.Enum):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    ERP = "erp"
    STATIC_URL = "static_url"
    API = "api"
    CLI = "cli"
    RETRY = "retry"


class Run(AccountOwned, db.Model):
    __tablename__ = "runs"
    __table_args__ = (sa.Index("ix_runs_procedure_created", "procedure_id", "created_at"),
                      sa.Index("ix_runs_account_created", "account_id", "created_at"),
                      sa.Index("ix_runs_status", "status"),
                      # At most one queued or running run per procedure, even under races.
                      sa.Index("uq_runs_one_active", "procedure_id", unique=True,
                               sqlite_where=sa.text("status IN ('queued', 'running')"),
                               postgresql_where=sa.text("status IN ('queued', 'running')")))
    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(sa.ForeignKey("procedures.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(sa.String(16))
    triggered_by: Mapped[str | None] = mapped_column(sa.String(254))  # user email, key id, ...
    status: Mapped[str] = mapped_column(sa.String(16), default=RunStatus.QUEUED.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A trigger that arrived while this run was active: one follow-up run, not a pile.
    follow_up: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(sa.Text)
    # Only these items (by step position -> refs) when re-running the failed items of a run.
    only_items: Mapped[dict | None] = mapped_column(sa.JSON)
    retry_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))
    steps = relationship("StepRun", back_populates="run", order_by="StepRun.position",
                         cascade="all, delete-orphan")
    procedure = relationship("Procedure")


class StepRun(AccountOwned, db.Model):
    __tablename__ = "step_runs"
    __table_args__ = (sa.UniqueConstraint("run_id", "position"),
                      sa.Index("ix_step_runs_status_heartbeat", "status", "heartbeat_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"))
    position: Mapped[int]
    connector_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("connectors.id", ondelete="SET NULL"), index=True)
    label: Mapped[str] = mapped_column(sa.String(200))  # kept: the connector may change later
    status: Mapped[str] = mapped_column(sa.String(16), default=StepStatus.PENDING.value)
    job_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items_total: Mapped[int | None]          # known once the flow has counted its work
    items_done: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    run = relationship("Run", back_populates="steps")


class ItemOutcome(str, enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    FAILED = "failed"
    HELD = "held"            # e.g. an order that does not qualify for the ERP yet


class StepItem(AccountOwned, db.Model):
    """One item's outcome in a step; unchanged items are only counted, not stored."""
    __tablename__ = "step_items"
    __table_args__ = (sa.Index("ix_step_items_step_outcome", "step_run_id", "outcome"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    step_run_id: Mapped[int] = mapped_column(sa.ForeignKey("step_runs.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(sa.String(128))  # SKU or order number
    outcome: Mapped[str] = mapped_column(sa.String(16))
    message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
