"""auth: server-side web sessions, token expiry, disabled accounts, sign-in failure counts

Revision ID: 0002
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_ms', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_ms', sa.BigInteger(), nullable=True))
    op.create_table('web_session',
    sa.Column('id_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('seen_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_web_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_sha256', name=op.f('pk_web_session'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)
    op.create_table('signin_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_key', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('t_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_failure'))
    )
    with op.batch_alter_table('signin_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_failure_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_signin_failure_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_signin_failure_t_ms'), ['t_ms'], unique=False)


def downgrade() -> None:
    op.drop_table('signin_failure')
    op.drop_table('web_session')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_ms')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('disabled_ms')
