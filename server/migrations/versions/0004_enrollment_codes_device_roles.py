"""enrollment codes, the role of each device, and when a user was disabled

Devices enrolled before this migration keep working as warehouse clerks (the column default).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:50:54.882273
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enrollment_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('role_code', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['role_code'], ['hq_roles.code'], name=op.f('fk_enrollment_codes_role_code_hq_roles')),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_enrollment_codes'))
    )
    with op.batch_alter_table('hq_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sync.types.UtcDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('sync_devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role_code', sa.String(length=64), server_default='warehouse_clerk', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('sync_devices', schema=None) as batch_op:
        batch_op.drop_column('role_code')

    with op.batch_alter_table('hq_users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')

    op.drop_table('enrollment_codes')
