"""lots serials and cost on stock moves; item tracking and valuation method

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 09:53:05.950006
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracking', sa.String(length=8), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('shelf_life_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('valuation_method', sa.String(length=16), server_default='moving_average', nullable=False))

    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lot_no', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('serial_no', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('unit_cost', sync.types.DecimalType(length=48), nullable=True))
        batch_op.create_index('ix_stock_moves_item_lot', ['item_id', 'lot_no'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_moves_item_lot')
        batch_op.drop_column('unit_cost')
        batch_op.drop_column('serial_no')
        batch_op.drop_column('lot_no')

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('valuation_method')
        batch_op.drop_column('shelf_life_days')
        batch_op.drop_column('tracking')

