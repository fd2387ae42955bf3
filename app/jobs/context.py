"""One Flask app per worker process, so jobs run inside an app context.

A forked work horse inherits the parent's database pool; sharing those sockets corrupts both,
so the pool is dropped (not closed) in a child that did not create it.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

_app = None
_pid = None


def get_app():
    global _app, _pid
    from flask import current_app, has_app_context
    if has_app_context():  # a SimpleWorker inside tests or a CLI command
        return current_app._get_current_object()
    if _app is None:
        from app import create_app
        _app = create_app()
        _pid = os.getpid()
    elif _pid != os.getpid():
        from app.extensions import db
        with _app.app_context():
            db.engine.dispose(close=False)
        _pid = os.getpid()
    return _app


@contextmanager
def job_context():
    """A fresh app context per job: its own database session, removed when the job ends."""
    with get_app().app_context():
        yield
