"""What the benchmarks share: an app on a database emptied and migrated to head.

Destroys whatever the database holds: never point it at data you want to keep.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def app_for(database: str):
    os.environ["PONTE_ENV"] = "testing"
    os.environ["TEST_DATABASE_URL"] = database
    from app import create_app
    return create_app("testing")


def fresh_app(database: str):
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app.extensions import db
    app = app_for(database)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=str(ROOT / "migrations"))
    return app
