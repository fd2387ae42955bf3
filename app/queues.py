"""Redis and the RQ queues, created lazily per app from REDIS_URL."""
from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue


def init_app(app: Flask) -> None:
    app.extensions["ponte_redis"] = None


def redis_connection(app: Flask | None = None) -> Redis:
    """One client (with its pool) per app; RQ wants bytes, so no decode_responses."""
    app = app or current_app
    conn = app.extensions.get("ponte_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"], health_check_interval=30)
        app.extensions["ponte_redis"] = conn
    return conn


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    app = app or current_app
    return Queue(name, connection=redis_connection(app),
                 default_timeout=app.config["JOB_TIMEOUT_SECONDS"])
