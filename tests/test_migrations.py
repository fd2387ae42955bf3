"""The migrations and the models agree: autogenerate finds nothing to do."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def _diff():
    with db.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(mc, db.metadata)


def test_autogenerate_finds_no_difference(ctx):
    assert _diff() == []


def test_schema_is_at_head(ctx):
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate  # noqa: F401
    config = ctx.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
