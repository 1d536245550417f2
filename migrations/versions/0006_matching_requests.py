"""Matching requests: a proposal run is wanted soon after the picture changed

Revision ID: 7c1e5a9d2f40
Revises: 0005
Create Date: 2026-12-06 12:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1e5a9d2f40'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('matching_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_requests'))
    )


def downgrade():
    op.drop_table('matching_requests')
