"""n-of-1 trials (allocation, deviations) and the primary endpoint's history

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 08:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trial',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('weeks', sa.SmallInteger(), nullable=False),
    sa.Column('slots', sa.String(length=80), nullable=False),
    sa.Column('session_min', sa.SmallInteger(), nullable=False),
    sa.Column('first_day', sa.String(length=10), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('primary_metric', sa.String(length=40), nullable=False),
    sa.Column('primary_lag', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_trial_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trial'))
    )
    with op.batch_alter_table('trial', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trial_person_id'), ['person_id'], unique=False)

    op.create_table('trial_allocation',
    sa.Column('trial_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.SmallInteger(), nullable=False),
    sa.Column('slot', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('planned_start_ms', sa.BigInteger(), nullable=False),
    sa.Column('seen_start_ms', sa.BigInteger(), nullable=False),
    sa.Column('seen_kind', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['massage_session.id'], name=op.f('fk_trial_allocation_session_id_massage_session'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trial_id'], ['trial.id'], name=op.f('fk_trial_allocation_trial_id_trial'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trial_id', 'week', 'slot', name=op.f('pk_trial_allocation'))
    )
    with op.batch_alter_table('trial_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trial_allocation_session_id'), ['session_id'], unique=False)

    op.create_table('trial_deviation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trial_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.SmallInteger(), nullable=False),
    sa.Column('slot', sa.SmallInteger(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['massage_session.id'], name=op.f('fk_trial_deviation_session_id_massage_session'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trial_id'], ['trial.id'], name=op.f('fk_trial_deviation_trial_id_trial'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trial_deviation'))
    )
    with op.batch_alter_table('trial_deviation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trial_deviation_trial_id'), ['trial_id'], unique=False)

    op.create_table('primary_endpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('lag', sa.SmallInteger(), nullable=False),
    sa.Column('set_ms', sa.BigInteger(), nullable=False),
    sa.Column('sessions_done', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_primary_endpoint_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_primary_endpoint'))
    )
    with op.batch_alter_table('primary_endpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_primary_endpoint_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('primary_endpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_primary_endpoint_person_id'))

    op.drop_table('primary_endpoint')
    with op.batch_alter_table('trial_deviation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trial_deviation_trial_id'))

    op.drop_table('trial_deviation')
    with op.batch_alter_table('trial_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trial_allocation_session_id'))

    op.drop_table('trial_allocation')
    with op.batch_alter_table('trial', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trial_person_id'))

    op.drop_table('trial')
