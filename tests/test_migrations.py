"""The migrations build exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from matching.extensions import db as _db


# SQLite's reflection skips expression indexes (lower(email)); PostgreSQL compares them too.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_models_and_migrations_agree(app, db):
    context = MigrationContext.configure(
        db.session.connection(), opts={"compare_type": True, "render_as_batch": True}
    )
    diff = compare_metadata(context, _db.metadata)
    assert diff == []
