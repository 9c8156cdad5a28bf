"""stored nightly summaries: night_summary gets one column per metric, night_dirty marks changed samples

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 08:30:00

The old night_summary (a JSON blob per night, written by a daily job and read by nothing) is replaced;
the upgrade computes the summaries of the existing data (tracker.night_compute), person by person.
"""

import time

import sqlalchemy as sa
import sqlalchemy.orm as so
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('night_summary')
    op.create_table('night_summary',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('night', sa.Date(), nullable=False),
    sa.Column('bed_start_ms', sa.BigInteger(), nullable=False),
    sa.Column('bed_end_ms', sa.BigInteger(), nullable=False),
    sa.Column('sleep_onset_ms', sa.BigInteger(), nullable=False),
    sa.Column('sleep_end_ms', sa.BigInteger(), nullable=False),
    sa.Column('time_in_bed_min', sa.Double(), nullable=False),
    sa.Column('sleep_onset_latency_min', sa.Double(), nullable=False),
    sa.Column('tst_min', sa.Double(), nullable=False),
    sa.Column('sleep_efficiency_pct', sa.Double(), nullable=True),
    sa.Column('waso_min', sa.Double(), nullable=False),
    sa.Column('awakenings', sa.Integer(), nullable=False),
    sa.Column('stages_from_device', sa.Boolean(), nullable=False),
    sa.Column('light_min', sa.Double(), nullable=True),
    sa.Column('deep_min', sa.Double(), nullable=True),
    sa.Column('rem_min', sa.Double(), nullable=True),
    sa.Column('nap_min', sa.Double(), nullable=False),
    sa.Column('resting_hr_bpm', sa.Double(), nullable=True),
    sa.Column('ln_rmssd_night', sa.Double(), nullable=True),
    sa.Column('n_hrv_windows', sa.Integer(), nullable=False),
    sa.Column('computed_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_night_summary_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'night', name=op.f('pk_night_summary'))
    )
    op.create_table('night_dirty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_night_dirty_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_night_dirty'))
    )
    with op.batch_alter_table('night_dirty', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_night_dirty_person_id'), ['person_id'], unique=False)

    # Fill the summaries of the data already stored (application code: the same computation as at runtime).
    from tracker.nights import rebuild_person

    db = so.Session(bind=op.get_bind())
    now_ms = int(time.time() * 1000)
    for person_id, tz in db.execute(sa.text("SELECT id, tz FROM person ORDER BY id")).all():
        rebuild_person(db, int(person_id), str(tz), now_ms)
    db.flush()


def downgrade() -> None:
    with op.batch_alter_table('night_dirty', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_night_dirty_person_id'))
    op.drop_table('night_dirty')
    op.drop_table('night_summary')
    op.create_table('night_summary',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('night', sa.String(length=10), nullable=False),
    sa.Column('metrics_json', sa.Text(), nullable=False),
    sa.Column('computed_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_night_summary_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'night', name=op.f('pk_night_summary'))
    )
