"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from matching.extensions import db as _db


def test_models_and_migrations_agree(app, db):
    context = MigrationContext.configure(
        db.session.connection(), opts={"compare_type": True, "render_as_batch": True}
    )
    diff = compare_metadata(context, _db.metadata)
    assert diff == []
