"""window_summary: stored capture-window summaries; sample_epoch: a per-person counter of sample changes

Revision ID: 0011
Revises: 0009

Both start empty: the first report computes the summaries of its windows and stores them.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('window_summary',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.Column('beats', sa.Integer(), nullable=False),
    sa.Column('hr_bpm', sa.Double(), nullable=True),
    sa.Column('ln_rmssd', sa.Double(), nullable=True),
    sa.Column('flagged_pct', sa.Double(), nullable=True),
    sa.Column('coverage_pct', sa.Double(), nullable=True),
    sa.Column('computed_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_window_summary_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'start_ms', 'end_ms', name=op.f('pk_window_summary'))
    )
    op.create_table('sample_epoch',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_sample_epoch_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_sample_epoch'))
    )


def downgrade() -> None:
    op.drop_table('sample_epoch')
    op.drop_table('window_summary')
