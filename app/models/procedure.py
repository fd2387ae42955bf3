"""Procedures: ordered chains of connectors with their failure policy and schedule."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import AccountOwned, TimestampMixin, UTCDateTime


class FailurePolicy(str, enum.Enum):
    STOP = "stop"          # stop at the first failed step
    CONTINUE = "continue"  # run every step whatever happened before


class ScheduleKind(str, enum.Enum):
    NONE = "none"
    INTERVAL = "interval"
    CRON = "cron"


class Procedure(AccountOwned, TimestampMixin, db.Model):
    __tablename__ = "procedures"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    failure_policy: Mapped[str] = mapped_column(sa.String(16), default=FailurePolicy.STOP.value)
    schedule_kind: Mapped[str] = mapped_column(sa.String(16), default=ScheduleKind.NONE.value)
    interval_minutes: Mapped[int | None]
    cron: Mapped[str | None] = mapped_column(sa.String(120))
    # Optional daily window "HH:MM"-"HH:MM" in the procedure's time zone (may wrap midnight).
    window_start: Mapped[str | None] = mapped_column(sa.String(5))
    window_end: Mapped[str | None] = mapped_column(sa.String(5))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    enabled: Mapped[bool] = mapped_column(default=True)
    # Set for procedures made from a template ("every store ..."): their steps follow the nodes.
    template: Mapped[str | None] = mapped_column(sa.String(32))
    # sha256 of the static trigger token; the token itself is shown once and never stored.
    trigger_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    last_scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    schedule_failures: Mapped[int] = mapped_column(default=0)  # back-off after failed runs
    steps = relationship("ProcedureStep", back_populates="procedure",
                         order_by="ProcedureStep.position", cascade="all, delete-orphan")


class ProcedureStep(AccountOwned, db.Model):
    __tablename__ = "procedure_steps"
    __table_args__ = (sa.UniqueConstraint("procedure_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(sa.ForeignKey("procedures.id", ondelete="CASCADE"))
    position: Mapped[int]
    connector_id: Mapped[int] = mapped_column(sa.ForeignKey("connectors.id", ondelete="CASCADE"),
                                              index=True)
    procedure = relationship("Procedure", back_populates="steps")
    connector = relationship("Connector")
