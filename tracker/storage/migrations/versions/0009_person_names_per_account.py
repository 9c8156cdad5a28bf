"""person names unique per account: (user_id, name), plus a partial unique index for people with no account

Before, a person's name was unique across the whole database, so two accounts could not both have a
"Mum", and the refusal told one account that the name existed in another. Existing rows already satisfy
the narrower keys (they were globally unique), so the upgrade keeps every row as it is.

A unique constraint treats NULLs as distinct on SQLite and PostgreSQL, so (user_id, name) alone would let
two people with no account share a name; the partial index (WHERE user_id IS NULL) closes that.

Downgrading fails if two accounts now share a name (the old global key cannot hold them).

Revision ID: 0009
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0010'
branch_labels = None
depends_on = None

NO_ACCOUNT = sa.text('user_id IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('person') as batch:
        batch.drop_constraint('uq_person_name', type_='unique')
        batch.create_unique_constraint('uq_person_user_id_name', ['user_id', 'name'])
    op.create_index('uq_person_name_no_account', 'person', ['name'], unique=True,
                    sqlite_where=NO_ACCOUNT, postgresql_where=NO_ACCOUNT)


def downgrade() -> None:
    op.drop_index('uq_person_name_no_account', table_name='person')
    with op.batch_alter_table('person') as batch:
        batch.drop_constraint('uq_person_user_id_name', type_='unique')
        batch.create_unique_constraint('uq_person_name', ['name'])
