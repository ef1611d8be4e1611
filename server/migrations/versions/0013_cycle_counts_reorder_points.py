"""cycle counts: documents, lines and count entries; reorder points per site and item

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cycle_counts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_cycle_counts_site_id_sites')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_cycle_counts_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_counts')),
    sa.UniqueConstraint('number', name=op.f('uq_cycle_counts_number'))
    )
    with op.batch_alter_table('cycle_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_counts__version'), ['_version'], unique=False)
        batch_op.create_index('ix_cycle_counts_site_key', ['site_id', 'id'], unique=False)

    op.create_table('cycle_count_lines',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('count_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('lot_no', sa.String(length=64), nullable=True),
    sa.Column('counted_quantity', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('system_quantity', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('counted_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('counted_by', sa.String(length=120), nullable=True),
    sa.Column('move_id', sa.String(length=36), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['count_id'], ['cycle_counts.id'], name=op.f('fk_cycle_count_lines_count_id_cycle_counts')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_cycle_count_lines_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_cycle_count_lines_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_count_lines')),
    sa.UniqueConstraint('count_id', 'line_no', name=op.f('uq_cycle_count_lines_count_id_line_no'))
    )
    with op.batch_alter_table('cycle_count_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_count_lines__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_count_lines_count_id'), ['count_id'], unique=False)
        batch_op.create_index('ix_cycle_count_lines_site_key', ['site_id', 'id'], unique=False)

    op.create_table('cycle_count_entries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('count_id', sa.String(length=36), nullable=False),
    sa.Column('line_id', sa.String(length=36), nullable=False),
    sa.Column('counted_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('system_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('flag', sa.String(length=16), nullable=True),
    sa.Column('occurred_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_count_entries'))
    )
    with op.batch_alter_table('cycle_count_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_count_entries__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_count_entries_count_id'), ['count_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_count_entries_line_id'), ['line_id'], unique=False)
        batch_op.create_index('ix_cycle_count_entries_site_key', ['site_id', 'id'], unique=False)

    op.create_table('reorder_points',
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('reorder_point', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('reorder_quantity', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('max_level', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('min_order_quantity', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('order_multiple', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('preferred_supplier_id', sa.String(length=36), nullable=True),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_reorder_points_item_id_items')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_reorder_points_site_id_sites')),
    sa.PrimaryKeyConstraint('item_id', 'site_id', name=op.f('pk_reorder_points'))
    )
    with op.batch_alter_table('reorder_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reorder_points__version'), ['_version'], unique=False)
        batch_op.create_index('ix_reorder_points_site_key', ['site_id', 'item_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reorder_points', schema=None) as batch_op:
        batch_op.drop_index('ix_reorder_points_site_key')
        batch_op.drop_index(batch_op.f('ix_reorder_points__version'))

    op.drop_table('reorder_points')
    with op.batch_alter_table('cycle_count_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_cycle_count_entries_site_key')
        batch_op.drop_index(batch_op.f('ix_cycle_count_entries_line_id'))
        batch_op.drop_index(batch_op.f('ix_cycle_count_entries_count_id'))
        batch_op.drop_index(batch_op.f('ix_cycle_count_entries__version'))

    op.drop_table('cycle_count_entries')
    with op.batch_alter_table('cycle_count_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_cycle_count_lines_site_key')
        batch_op.drop_index(batch_op.f('ix_cycle_count_lines_count_id'))
        batch_op.drop_index(batch_op.f('ix_cycle_count_lines__version'))

    op.drop_table('cycle_count_lines')
    with op.batch_alter_table('cycle_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_cycle_counts_site_key')
        batch_op.drop_index(batch_op.f('ix_cycle_counts__version'))

    op.drop_table('cycle_counts')
