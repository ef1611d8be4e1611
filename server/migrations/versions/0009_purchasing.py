"""purchasing: suppliers, purchase orders and their lines, receipts and returns, exceptions

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 07:15:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('po_receipts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('po_id', sa.String(length=36), nullable=False),
    sa.Column('po_line_id', sa.String(length=36), nullable=False),
    sa.Column('move_id', sa.String(length=36), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('occurred_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_po_receipts'))
    )
    with op.batch_alter_table('po_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_po_receipts__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_po_receipts_po_id'), ['po_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_po_receipts_po_line_id'), ['po_line_id'], unique=False)
        batch_op.create_index('ix_po_receipts_site_key', ['site_id', 'id'], unique=False)

    op.create_table('purchasing_exceptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('po_id', sa.String(length=36), nullable=False),
    sa.Column('po_line_id', sa.String(length=36), nullable=False),
    sa.Column('receipt_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('involved_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('raised_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_exceptions'))
    )
    with op.batch_alter_table('purchasing_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_exceptions__version'), ['_version'], unique=False)
        batch_op.create_index('ix_purchasing_exceptions_site_key', ['site_id', 'id'], unique=False)

    op.create_table('suppliers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('code', name=op.f('uq_suppliers_code'))
    )
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suppliers__version'), ['_version'], unique=False)

    op.create_table('purchase_orders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('over_receipt_tolerance', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('expected_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_purchase_orders_site_id_sites')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_purchase_orders_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_orders_number'))
    )
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_orders__version'), ['_version'], unique=False)
        batch_op.create_index('ix_purchase_orders_site_key', ['site_id', 'id'], unique=False)

    op.create_table('purchase_order_lines',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('po_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('unit_price', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('received_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('returned_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('invoiced_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_purchase_order_lines_item_id_items')),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_lines_po_id_purchase_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines')),
    sa.UniqueConstraint('po_id', 'line_no', name=op.f('uq_purchase_order_lines_po_id_line_no'))
    )
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_lines__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_po_id'), ['po_id'], unique=False)
        batch_op.create_index('ix_purchase_order_lines_site_key', ['site_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_order_lines_site_key')
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_po_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines__version'))

    op.drop_table('purchase_order_lines')
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_orders_site_key')
        batch_op.drop_index(batch_op.f('ix_purchase_orders__version'))

    op.drop_table('purchase_orders')
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suppliers__version'))

    op.drop_table('suppliers')
    with op.batch_alter_table('purchasing_exceptions', schema=None) as batch_op:
        batch_op.drop_index('ix_purchasing_exceptions_site_key')
        batch_op.drop_index(batch_op.f('ix_purchasing_exceptions__version'))

    op.drop_table('purchasing_exceptions')
    with op.batch_alter_table('po_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_po_receipts_site_key')
        batch_op.drop_index(batch_op.f('ix_po_receipts_po_line_id'))
        batch_op.drop_index(batch_op.f('ix_po_receipts_po_id'))
        batch_op.drop_index(batch_op.f('ix_po_receipts__version'))

    op.drop_table('po_receipts')
