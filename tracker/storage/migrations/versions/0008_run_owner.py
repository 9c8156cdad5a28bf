"""run.owner: the process ("host:pid") that opened a run, so runs of a dead process can be closed

Revision ID: 0008
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run') as batch:
        batch.add_column(sa.Column('owner', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('run') as batch:
        batch.drop_column('owner')
