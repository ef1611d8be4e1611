"""sales and after-sales service: customers, contacts, leads, opportunities, quotations, sales
orders, reservations and reserved totals, deliveries and returns, sales exceptions, service
tickets and visits

The personal columns (customer_contacts.phone and .email, leads.phone) hold plaintext on the
server; their column type (``sync.personal.PersonalData``) encrypts only on a device's replica,
so here they are created as the types they wrap.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 07:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=True),
    sa.Column('credit_limit', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('code', name=op.f('uq_customers_code'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers__version'), ['_version'], unique=False)

    op.create_table('reserved_stock',
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('item_id', 'site_id', name=op.f('pk_reserved_stock'))
    )
    with op.batch_alter_table('reserved_stock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reserved_stock__version'), ['_version'], unique=False)
        batch_op.create_index('ix_reserved_stock_site_key', ['site_id', 'item_id'], unique=False)

    op.create_table('sales_exceptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('order_line_id', sa.String(length=36), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('involved_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('raised_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_exceptions'))
    )
    with op.batch_alter_table('sales_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_exceptions__version'), ['_version'], unique=False)
        batch_op.create_index('ix_sales_exceptions_site_key', ['site_id', 'id'], unique=False)

    op.create_table('service_visits',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_id', sa.String(length=36), nullable=False),
    sa.Column('visited_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('technician', sa.String(length=120), nullable=False),
    sa.Column('work_done', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_visits'))
    )
    with op.batch_alter_table('service_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_visits__version'), ['_version'], unique=False)
        batch_op.create_index('ix_service_visits_site_key', ['site_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_visits_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('so_deliveries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('order_line_id', sa.String(length=36), nullable=False),
    sa.Column('move_id', sa.String(length=36), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('occurred_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_so_deliveries'))
    )
    with op.batch_alter_table('so_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_so_deliveries__version'), ['_version'], unique=False)
        batch_op.create_index('ix_so_deliveries_occurred_at', ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_so_deliveries_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_so_deliveries_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index('ix_so_deliveries_site_key', ['site_id', 'id'], unique=False)

    op.create_table('stock_reservations',
    sa.Column('order_line_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('released_reason', sa.String(length=16), nullable=True),
    sa.Column('reserved_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('released_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('order_line_id', name=op.f('pk_stock_reservations'))
    )
    with op.batch_alter_table('stock_reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_reservations__version'), ['_version'], unique=False)
        batch_op.create_index('ix_stock_reservations_item_site_status', ['item_id', 'site_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_reservations_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_stock_reservations_site_key', ['site_id', 'order_line_id'], unique=False)

    op.create_table('customer_contacts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_contacts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_contacts'))
    )
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_contacts__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_contacts_customer_id'), ['customer_id'], unique=False)

    op.create_table('leads',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('lost_reason', sa.Text(), nullable=True),
    sa.Column('opportunity_id', sa.String(length=36), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_leads_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leads__version'), ['_version'], unique=False)
        batch_op.create_index('ix_leads_site_key', ['site_id', 'id'], unique=False)

    op.create_table('opportunities',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('expected_value', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('expected_close', sa.String(length=10), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('lost_reason', sa.Text(), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_opportunities_customer_id_customers')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_opportunities_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities'))
    )
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunities__version'), ['_version'], unique=False)
        batch_op.create_index('ix_opportunities_site_key', ['site_id', 'id'], unique=False)

    op.create_table('quotations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('opportunity_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('valid_until', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('sent_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('sales_order_id', sa.String(length=36), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_quotations_customer_id_customers')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_quotations_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotations')),
    sa.UniqueConstraint('number', name=op.f('uq_quotations_number'))
    )
    with op.batch_alter_table('quotations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotations__version'), ['_version'], unique=False)
        batch_op.create_index('ix_quotations_site_key', ['site_id', 'id'], unique=False)

    op.create_table('sales_orders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('quotation_id', sa.String(length=36), nullable=True),
    sa.Column('requested_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_sales_orders_customer_id_customers')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_sales_orders_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_orders_number'))
    )
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_orders__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_orders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_sales_orders_site_key', ['site_id', 'id'], unique=False)

    op.create_table('service_tickets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('contact_id', sa.String(length=36), nullable=True),
    sa.Column('item_id', sa.String(length=36), nullable=True),
    sa.Column('serial_no', sa.String(length=64), nullable=True),
    sa.Column('sales_order_id', sa.String(length=36), nullable=True),
    sa.Column('complaint', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opened_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=120), nullable=True),
    sa.Column('warranty_until', sa.String(length=10), nullable=True),
    sa.Column('under_warranty', sa.Boolean(), nullable=False),
    sa.Column('assigned_to', sa.String(length=120), nullable=True),
    sa.Column('assigned_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('closed_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_service_tickets_customer_id_customers')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_service_tickets_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_tickets'))
    )
    with op.batch_alter_table('service_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_tickets__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_tickets_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_service_tickets_site_key', ['site_id', 'id'], unique=False)

    op.create_table('quotation_lines',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('quotation_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('unit_price', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_quotation_lines_item_id_items')),
    sa.ForeignKeyConstraint(['quotation_id'], ['quotations.id'], name=op.f('fk_quotation_lines_quotation_id_quotations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotation_lines')),
    sa.UniqueConstraint('quotation_id', 'line_no', name=op.f('uq_quotation_lines_quotation_id_line_no'))
    )
    with op.batch_alter_table('quotation_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotation_lines__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotation_lines_quotation_id'), ['quotation_id'], unique=False)
        batch_op.create_index('ix_quotation_lines_site_key', ['site_id', 'id'], unique=False)

    op.create_table('sales_order_lines',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('unit_price', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('delivered_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('returned_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_sales_order_lines_item_id_items')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_orders.id'], name=op.f('fk_sales_order_lines_order_id_sales_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order_lines')),
    sa.UniqueConstraint('order_id', 'line_no', name=op.f('uq_sales_order_lines_order_id_line_no'))
    )
    with op.batch_alter_table('sales_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_lines__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_lines_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_sales_order_lines_site_key', ['site_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sales_order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_lines_site_key')
        batch_op.drop_index(batch_op.f('ix_sales_order_lines_order_id'))
        batch_op.drop_index(batch_op.f('ix_sales_order_lines__version'))

    op.drop_table('sales_order_lines')
    with op.batch_alter_table('quotation_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_quotation_lines_site_key')
        batch_op.drop_index(batch_op.f('ix_quotation_lines_quotation_id'))
        batch_op.drop_index(batch_op.f('ix_quotation_lines__version'))

    op.drop_table('quotation_lines')
    with op.batch_alter_table('service_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_service_tickets_site_key')
        batch_op.drop_index(batch_op.f('ix_service_tickets_customer_id'))
        batch_op.drop_index(batch_op.f('ix_service_tickets__version'))

    op.drop_table('service_tickets')
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_orders_site_key')
        batch_op.drop_index(batch_op.f('ix_sales_orders_customer_id'))
        batch_op.drop_index(batch_op.f('ix_sales_orders__version'))

    op.drop_table('sales_orders')
    with op.batch_alter_table('quotations', schema=None) as batch_op:
        batch_op.drop_index('ix_quotations_site_key')
        batch_op.drop_index(batch_op.f('ix_quotations__version'))

    op.drop_table('quotations')
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunities_site_key')
        batch_op.drop_index(batch_op.f('ix_opportunities__version'))

    op.drop_table('opportunities')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_site_key')
        batch_op.drop_index(batch_op.f('ix_leads__version'))

    op.drop_table('leads')
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_contacts_customer_id'))
        batch_op.drop_index(batch_op.f('ix_customer_contacts__version'))

    op.drop_table('customer_contacts')
    with op.batch_alter_table('stock_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_reservations_site_key')
        batch_op.drop_index(batch_op.f('ix_stock_reservations_order_id'))
        batch_op.drop_index('ix_stock_reservations_item_site_status')
        batch_op.drop_index(batch_op.f('ix_stock_reservations__version'))

    op.drop_table('stock_reservations')
    with op.batch_alter_table('so_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_so_deliveries_site_key')
        batch_op.drop_index(batch_op.f('ix_so_deliveries_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_so_deliveries_order_id'))
        batch_op.drop_index('ix_so_deliveries_occurred_at')
        batch_op.drop_index(batch_op.f('ix_so_deliveries__version'))

    op.drop_table('so_deliveries')
    with op.batch_alter_table('service_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_visits_ticket_id'))
        batch_op.drop_index('ix_service_visits_site_key')
        batch_op.drop_index(batch_op.f('ix_service_visits__version'))

    op.drop_table('service_visits')
    with op.batch_alter_table('sales_exceptions', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_exceptions_site_key')
        batch_op.drop_index(batch_op.f('ix_sales_exceptions__version'))

    op.drop_table('sales_exceptions')
    with op.batch_alter_table('reserved_stock', schema=None) as batch_op:
        batch_op.drop_index('ix_reserved_stock_site_key')
        batch_op.drop_index(batch_op.f('ix_reserved_stock__version'))

    op.drop_table('reserved_stock')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers__version'))

    op.drop_table('customers')
