"""samples keyed by device as well; calendar occurrences and import runs on sessions

Revision ID: 0003
Revises: 0008
Create Date: 2026-12-01 08:20:00

Keeps every existing row: `device_key` is filled from `device_id` (0 where a row came from no device),
then the primary key grows to (person, time, device). SQLite cannot alter a primary key, so batch mode
copies each table; PostgreSQL alters in place.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0008'
branch_labels = None
depends_on = None

_SAMPLE_KEYS = {
    'heart_rate': 't_ms',
    'rr_interval': 't_ms',
    'sleep_stage': 'start_ms',
}


def upgrade() -> None:
    for table, time_col in _SAMPLE_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('device_key', sa.Integer(), server_default='0', nullable=False))
        op.execute(f'UPDATE {table} SET device_key = device_id WHERE device_id IS NOT NULL')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', ['person_id', time_col, 'device_key'])

    with op.batch_alter_table('massage_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ics_recurrence_id', sa.String(length=32), server_default='', nullable=False))
        batch_op.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_massage_session_run_id_run'), 'run', ['run_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint('uq_massage_session_person_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_massage_session_person_id'), ['person_id', 'ics_uid', 'ics_recurrence_id'])


def downgrade() -> None:
    with op.batch_alter_table('massage_session', schema=None) as batch_op:
        batch_op.drop_constraint('uq_massage_session_person_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_massage_session_person_id'), ['person_id', 'ics_uid'])
        batch_op.drop_constraint('fk_massage_session_run_id_run', type_='foreignkey')
        batch_op.drop_column('run_id')
        batch_op.drop_column('ics_recurrence_id')
    for table, time_col in _SAMPLE_KEYS.items():
        # Two devices' values at one instant cannot both survive the narrower key: keep the lowest device.
        op.execute(
            f'DELETE FROM {table} WHERE device_key > (SELECT MIN(o.device_key) FROM {table} o '
            f'WHERE o.person_id = {table}.person_id AND o.{time_col} = {table}.{time_col})'
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', ['person_id', time_col])
            batch_op.drop_column('device_key')
