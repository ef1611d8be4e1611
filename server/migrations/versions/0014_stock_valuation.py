"""stock valuation: item costs, FIFO cost layers and month-end weighted average months (server only)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('item_costs',
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('value', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('unit_cost', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=True),
    sa.Column('last_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'item_id', name=op.f('pk_item_costs'))
    )
    op.create_table('fifo_layers',
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('source_move_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('value', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('unit_cost', sync.types.DecimalType(length=48), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'item_id', 'source_move_id', name=op.f('pk_fifo_layers'))
    )
    with op.batch_alter_table('fifo_layers', schema=None) as batch_op:
        batch_op.create_index('ix_fifo_layers_order', ['site_id', 'item_id', 'position', 'source_move_id'], unique=False)

    op.create_table('valuation_months',
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('opening_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('opening_value', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('opening_unit_cost', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('incoming_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('incoming_value', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('outgoing_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'item_id', 'month', name=op.f('pk_valuation_months'))
    )


def downgrade() -> None:
    op.drop_table('valuation_months')
    with op.batch_alter_table('fifo_layers', schema=None) as batch_op:
        batch_op.drop_index('ix_fifo_layers_order')

    op.drop_table('fifo_layers')
    op.drop_table('item_costs')
