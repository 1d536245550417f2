"""Proposal fingerprints: a run that finds nothing changed since the last one stops early

Revision ID: 4f2d8a61c0b7
Revises: 9b0765196dde
Create Date: 2026-12-06 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4f2d8a61c0b7'
down_revision = '9b0765196dde'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proposal_fingerprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('needs_open', sa.Integer(), nullable=False),
    sa.Column('needs_without_candidate', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_fingerprints'))
    )


def downgrade():
    op.drop_table('proposal_fingerprints')
