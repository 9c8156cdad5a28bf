"""device: a band's auth key

Revision ID: 0004
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_column('auth_key')
