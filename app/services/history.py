"""Pruning what only needs to be kept for a while (stock history), a bounded batch per tick."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import StockEvent, utcnow

BATCH = 10_000  # at most this many rows per tick, so one tick never holds a long lock


def prune_history(now=None) -> dict:
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["STOCK_HISTORY_DAYS"])
    ids = sa.select(StockEvent.id).where(StockEvent.created_at < cutoff).limit(BATCH)
    result = db.session.execute(sa.delete(StockEvent).where(StockEvent.id.in_(
        ids.scalar_subquery())))
    db.session.commit()
    return {"stock_events_pruned": result.rowcount}
