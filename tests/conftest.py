"""Test fixtures: a real database (SQLite file or TEST_DATABASE_URL for PostgreSQL), a real
Redis (TEST_REDIS_URL), real RQ workers in burst mode. A missing service fails the run."""
from __future__ import annotations

import contextvars
import os
import tempfile

os.environ["PONTE_ENV"] = "testing"
os.environ.setdefault("PONTE_INSTANCE_DIR", tempfile.mkdtemp(prefix="ponte-test-"))

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from redis import Redis  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402


def _require_redis(url: str) -> None:
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        pytest.exit(f"Redis at {url} does not answer ({exc}); start it or set TEST_REDIS_URL "
                    "(the README's test command starts an embedded one)", returncode=3)


def _reset_database(app) -> None:
    from flask_migrate import upgrade
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        else:
            db.drop_all()
            with engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()  # the schema the tests use is the migrations' schema


@pytest.fixture(scope="session")
def app():
    application = create_app("testing")
    _require_redis(application.config["REDIS_URL"])
    try:
        with application.app_context():
            db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:
        pytest.exit(f"database {application.config['SQLALCHEMY_DATABASE_URI']} does not answer:"
                    f" {exc}", returncode=3)
    _reset_database(application)
    yield application
    from app.queues import redis_connection
    redis_connection(application).connection_pool.disconnect()


def _clean(app) -> None:
    with app.app_context():
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(table.delete())
        from app.queues import redis_connection
        redis_connection(app).flushdb()


@pytest.fixture()
def ctx(app):
    """A clean database and Redis, and an app context for the test body."""
    _clean(app)
    with app.app_context():
        yield app
        db.session.remove()


class IsolatedClient(FlaskClient):
    """Each request runs in an empty contextvars context, so it gets its own app context,
    `g` and database session, as in production, even while the test holds an app context."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture()
def client(ctx):
    ctx.test_client_class = IsolatedClient
    return ctx.test_client()


@pytest.fixture()
def work(ctx):
    """Run real RQ workers in burst mode until every queue is empty."""
    from rq import SimpleWorker
    from app.queues import get_queue, redis_connection

    def run(queues=("sync", "default", "periodic"), max_rounds: int = 20) -> None:
        conn = redis_connection()
        for _ in range(max_rounds):
            qs = [get_queue(q) for q in queues]
            if not any(len(q) for q in qs):
                break
            SimpleWorker(qs, connection=conn).work(burst=True, with_scheduler=False)
        db.session.expire_all()  # the test sees what the workers committed
    yield run
    db.session.expire_all()
