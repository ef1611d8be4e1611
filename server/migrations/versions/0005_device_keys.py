"""device signing keys and the nonces of signed sync requests

Devices enrolled before this migration have no key: they enroll again (protocol 2 signs every
sync request).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 06:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_request_nonces',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('device_id', 'nonce', name=op.f('pk_sync_request_nonces'))
    )
    with op.batch_alter_table('sync_request_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_request_nonces_seen_at'), ['seen_at'], unique=False)

    with op.batch_alter_table('sync_devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_devices', schema=None) as batch_op:
        batch_op.drop_column('public_key')

    with op.batch_alter_table('sync_request_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_request_nonces_seen_at'))

    op.drop_table('sync_request_nonces')
