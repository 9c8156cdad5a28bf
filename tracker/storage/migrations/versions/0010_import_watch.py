"""import_watch: files and folders a person's account watches from the Data page

Revision ID: 0010
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_watch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_check_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_import_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_result', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_import_watch_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_watch')),
    sa.UniqueConstraint('person_id', 'path', name=op.f('uq_import_watch_person_id'))
    )


def downgrade() -> None:
    op.drop_table('import_watch')
