"""device_metric: values a device computed itself (SDNN, RMSSD estimate, resting HR), from imports

Revision ID: 0007
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_metric',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('t_ms', sa.BigInteger(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_device_metric_device_id_device'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_device_metric_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], name=op.f('fk_device_metric_run_id_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('person_id', 'device_id', 'kind', 't_ms', name=op.f('pk_device_metric'))
    )
    op.create_index(op.f('ix_device_metric_run_id'), 'device_metric', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_device_metric_run_id'), table_name='device_metric')
    op.drop_table('device_metric')
