"""users, roles, user roles and sign-in sessions (module ``access``)

Server-only tables: devices never receive their rows. Built-in roles are written at server
start from ``erp.access.permissions.BUILTIN_ROLES``, not here, so a release can refine them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:33:34.345576
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hq_roles',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('grants_json', sa.Text(), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_hq_roles'))
    )
    op.create_table('hq_users',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=120), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hq_users')),
    sa.UniqueConstraint('username', name=op.f('uq_hq_users_username'))
    )
    op.create_table('hq_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['hq_users.id'], name=op.f('fk_hq_sessions_user_id_hq_users')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_hq_sessions'))
    )
    with op.batch_alter_table('hq_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hq_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('hq_user_roles',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('role_code', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['role_code'], ['hq_roles.code'], name=op.f('fk_hq_user_roles_role_code_hq_roles')),
    sa.ForeignKeyConstraint(['user_id'], ['hq_users.id'], name=op.f('fk_hq_user_roles_user_id_hq_users')),
    sa.PrimaryKeyConstraint('user_id', 'role_code', name=op.f('pk_hq_user_roles'))
    )


def downgrade() -> None:
    op.drop_table('hq_user_roles')
    with op.batch_alter_table('hq_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hq_sessions_user_id'))

    op.drop_table('hq_sessions')
    op.drop_table('hq_users')
    op.drop_table('hq_roles')
