"""Housekeeping jobs: the ping that proves web -> Redis -> worker works."""
from __future__ import annotations

import os
import socket

from app.extensions import db
from app.models import Account

from .context import job_context


def ping(account_id: int) -> dict:
    """Answers from the worker with its host and pid, after a real database round trip."""
    with job_context():
        account = db.session.get(Account, account_id)
        return {"pong": True, "account": account.name if account else None,
                "host": socket.gethostname(), "pid": os.getpid()}
