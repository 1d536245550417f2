"""Indexes for the log-in lookup and the open needs newest first

Revision ID: 0009
Revises: 4f2d8a61c0b7
Create Date: 2026-12-06 15:25:00

At 70,000 accounts the case-blind log-in lookup (lower(email)) read the whole users
table; the open needs newest first (the list, the feeds) sorted every open need for a
page of twenty.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '4f2d8a61c0b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_users_email_lower', 'users', [sa.text('lower(email)')])
    op.create_index('ix_needs_status_published', 'needs', ['status', 'published_at', 'id'])


def downgrade():
    op.drop_index('ix_needs_status_published', table_name='needs')
    op.drop_index('ix_users_email_lower', table_name='users')
