"""inventory lots, lot on-hand and serial numbers; location kinds (bins)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lots',
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('lot_no', sa.String(length=64), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=8), server_default='released', nullable=False),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('held_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('held_by', sa.String(length=120), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.Column('received_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_lots_item_id_items')),
    sa.PrimaryKeyConstraint('site_id', 'item_id', 'lot_no', name=op.f('pk_lots'))
    )
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lots__version'), ['_version'], unique=False)
        batch_op.create_index('ix_lots_item_expiry', ['item_id', 'expires_on'], unique=False)
        batch_op.create_index('ix_lots_site_version', ['site_id', '_version'], unique=False)

    op.create_table('lot_on_hand',
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('lot_no', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_lot_on_hand_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_lot_on_hand_location_id_locations')),
    sa.PrimaryKeyConstraint('item_id', 'location_id', 'lot_no', name=op.f('pk_lot_on_hand'))
    )
    with op.batch_alter_table('lot_on_hand', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lot_on_hand__version'), ['_version'], unique=False)
        batch_op.create_index('ix_lot_on_hand_site_key', ['site_id', 'item_id', 'location_id', 'lot_no'], unique=False)
        batch_op.create_index('ix_lot_on_hand_site_version', ['site_id', '_version'], unique=False)

    op.create_table('serial_numbers',
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('serial_no', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('last_move_id', sa.String(length=36), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_serial_numbers_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_serial_numbers_location_id_locations')),
    sa.PrimaryKeyConstraint('site_id', 'item_id', 'serial_no', name=op.f('pk_serial_numbers'))
    )
    with op.batch_alter_table('serial_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_serial_numbers__version'), ['_version'], unique=False)
        batch_op.create_index('ix_serial_numbers_item_serial', ['item_id', 'serial_no'], unique=False)
        batch_op.create_index('ix_serial_numbers_site_version', ['site_id', '_version'], unique=False)

    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='storage', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_column('kind')

    with op.batch_alter_table('serial_numbers', schema=None) as batch_op:
        batch_op.drop_index('ix_serial_numbers_site_version')
        batch_op.drop_index('ix_serial_numbers_item_serial')
        batch_op.drop_index(batch_op.f('ix_serial_numbers__version'))

    op.drop_table('serial_numbers')
    with op.batch_alter_table('lot_on_hand', schema=None) as batch_op:
        batch_op.drop_index('ix_lot_on_hand_site_version')
        batch_op.drop_index('ix_lot_on_hand_site_key')
        batch_op.drop_index(batch_op.f('ix_lot_on_hand__version'))

    op.drop_table('lot_on_hand')
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.drop_index('ix_lots_site_version')
        batch_op.drop_index('ix_lots_item_expiry')
        batch_op.drop_index(batch_op.f('ix_lots__version'))

    op.drop_table('lots')
