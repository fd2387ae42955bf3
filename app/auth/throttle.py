"""Login throttling in Redis: failures counted per email and per client address.

Counters expire with the window, so Redis holds only short-lived state; a lost Redis merely
forgets recent failures.
"""
from __future__ import annotations

import hashlib

from flask import current_app

from app.queues import redis_connection


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]  # no raw emails in Redis
    return f"ponte:login-fail:{kind}:{digest}"


def blocked_for(email: str, address: str) -> int:
    """Seconds until this email or address may try again (0 when allowed)."""
    c = current_app.config
    r = redis_connection()
    wait = 0
    for kind, value, limit in (("email", email, c["LOGIN_MAX_FAILURES_PER_EMAIL"]),
                               ("addr", address, c["LOGIN_MAX_FAILURES_PER_ADDRESS"])):
        key = _key(kind, value)
        count = int(r.get(key) or 0)
        if count >= limit:
            wait = max(wait, max(r.ttl(key), 1))
    return wait


def record_failure(email: str, address: str) -> None:
    window = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    r = redis_connection()
    for kind, value in (("email", email), ("addr", address)):
        key = _key(kind, value)
        if r.incr(key) == 1:  # the window starts at the first failure (works on Redis 6 too)
            r.expire(key, window)


def clear(email: str) -> None:
    redis_connection().delete(_key("email", email))
