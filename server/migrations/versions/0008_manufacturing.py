"""manufacturing: calendars, standard costs, BOMs, work centres, routings, work orders and shop-floor reports

Every table is new except ``stock_moves``, which gets an index on ``document_id``: a work
order's material and finished-goods moves carry its id there, and its page lists them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 07:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wo_exceptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('work_order_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('order_status', sa.String(length=16), nullable=False),
    sa.Column('involved_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('raised_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wo_exceptions'))
    )
    with op.batch_alter_table('wo_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wo_exceptions__version'), ['_version'], unique=False)
        batch_op.create_index('ix_wo_exceptions_site_key', ['site_id', 'id'], unique=False)
        batch_op.create_index('ix_wo_exceptions_site_version', ['site_id', '_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_wo_exceptions_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('working_calendars',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('working_weekdays', sa.String(length=13), nullable=False),
    sa.Column('holidays', sa.Text(), nullable=False),
    sa.Column('extra_working_days', sa.Text(), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_calendars')),
    sa.UniqueConstraint('code', name=op.f('uq_working_calendars_code'))
    )
    with op.batch_alter_table('working_calendars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_working_calendars__version'), ['_version'], unique=False)

    op.create_table('work_centres',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('calendar_id', sa.String(length=36), nullable=False),
    sa.Column('capacity_hours_per_day', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('labour_rate', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('overhead_rate', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['working_calendars.id'], name=op.f('fk_work_centres_calendar_id_working_calendars')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_work_centres_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_centres')),
    sa.UniqueConstraint('site_id', 'code', name=op.f('uq_work_centres_site_id_code'))
    )
    with op.batch_alter_table('work_centres', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_centres__version'), ['_version'], unique=False)
        batch_op.create_index('ix_work_centres_site_version', ['site_id', '_version'], unique=False)

    op.create_table('boms',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('released_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('released_by', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_boms_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boms')),
    sa.UniqueConstraint('item_id', 'version', name=op.f('uq_boms_item_id_version'))
    )
    with op.batch_alter_table('boms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_boms__version'), ['_version'], unique=False)

    op.create_table('item_standard_costs',
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('standard_cost', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_standard_costs_item_id_items')),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_item_standard_costs'))
    )
    with op.batch_alter_table('item_standard_costs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_standard_costs__version'), ['_version'], unique=False)

    op.create_table('routings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_routings_item_id_items')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_routings_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routings')),
    sa.UniqueConstraint('site_id', 'code', name=op.f('uq_routings_site_id_code'))
    )
    with op.batch_alter_table('routings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routings__version'), ['_version'], unique=False)
        batch_op.create_index('ix_routings_site_version', ['site_id', '_version'], unique=False)

    op.create_table('bom_lines',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('bom_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('component_item_id', sa.String(length=36), nullable=False),
    sa.Column('quantity_per', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('scrap_factor', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('phantom', sa.Boolean(), nullable=False),
    sa.Column('backflush', sa.Boolean(), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['bom_id'], ['boms.id'], name=op.f('fk_bom_lines_bom_id_boms')),
    sa.ForeignKeyConstraint(['component_item_id'], ['items.id'], name=op.f('fk_bom_lines_component_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bom_lines')),
    sa.UniqueConstraint('bom_id', 'line_no', name=op.f('uq_bom_lines_bom_id_line_no'))
    )
    with op.batch_alter_table('bom_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bom_lines__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_bom_lines_bom_id'), ['bom_id'], unique=False)

    op.create_table('routing_operations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('routing_id', sa.String(length=36), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('work_centre_id', sa.String(length=36), nullable=False),
    sa.Column('setup_hours', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('run_hours_per_unit', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['routing_id'], ['routings.id'], name=op.f('fk_routing_operations_routing_id_routings')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_routing_operations_site_id_sites')),
    sa.ForeignKeyConstraint(['work_centre_id'], ['work_centres.id'], name=op.f('fk_routing_operations_work_centre_id_work_centres')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_operations')),
    sa.UniqueConstraint('routing_id', 'sequence', name=op.f('uq_routing_operations_routing_id_sequence'))
    )
    with op.batch_alter_table('routing_operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_operations__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_routing_operations_routing_id'), ['routing_id'], unique=False)
        batch_op.create_index('ix_routing_operations_site_version', ['site_id', '_version'], unique=False)

    op.create_table('work_orders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('bom_id', sa.String(length=36), nullable=False),
    sa.Column('routing_id', sa.String(length=36), nullable=True),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('due_date', sa.String(length=10), nullable=False),
    sa.Column('issue_location_id', sa.String(length=36), nullable=False),
    sa.Column('receipt_location_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('completed_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('material_lines', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('released_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['bom_id'], ['boms.id'], name=op.f('fk_work_orders_bom_id_boms')),
    sa.ForeignKeyConstraint(['issue_location_id'], ['locations.id'], name=op.f('fk_work_orders_issue_location_id_locations')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_work_orders_item_id_items')),
    sa.ForeignKeyConstraint(['receipt_location_id'], ['locations.id'], name=op.f('fk_work_orders_receipt_location_id_locations')),
    sa.ForeignKeyConstraint(['routing_id'], ['routings.id'], name=op.f('fk_work_orders_routing_id_routings')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_work_orders_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_work_orders_number'))
    )
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_orders__version'), ['_version'], unique=False)
        batch_op.create_index('ix_work_orders_site_key', ['site_id', 'id'], unique=False)
        batch_op.create_index('ix_work_orders_site_version', ['site_id', '_version'], unique=False)

    op.create_table('wo_materials',
    sa.Column('work_order_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('backflush', sa.Boolean(), nullable=False),
    sa.Column('quantity_per', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('gross_quantity_per', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('required_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('issued_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_wo_materials_item_id_items')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_wo_materials_work_order_id_work_orders')),
    sa.PrimaryKeyConstraint('work_order_id', 'line_no', name=op.f('pk_wo_materials'))
    )
    with op.batch_alter_table('wo_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wo_materials__version'), ['_version'], unique=False)
        batch_op.create_index('ix_wo_materials_site_key', ['site_id', 'work_order_id', 'line_no'], unique=False)
        batch_op.create_index('ix_wo_materials_site_version', ['site_id', '_version'], unique=False)

    op.create_table('wo_operation_reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('work_order_id', sa.String(length=36), nullable=False),
    sa.Column('operation_seq', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('good_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('scrap_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('operator', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reverses_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_wo_operation_reports_work_order_id_work_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wo_operation_reports')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_wo_operation_reports_reverses_id'))
    )
    with op.batch_alter_table('wo_operation_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wo_operation_reports__version'), ['_version'], unique=False)
        batch_op.create_index('ix_wo_operation_reports_occurred_at', ['occurred_at'], unique=False)
        batch_op.create_index('ix_wo_operation_reports_operation', ['work_order_id', 'operation_seq'], unique=False)
        batch_op.create_index('ix_wo_operation_reports_site_key', ['site_id', 'id'], unique=False)
        batch_op.create_index('ix_wo_operation_reports_site_version', ['site_id', '_version'], unique=False)

    op.create_table('wo_operations',
    sa.Column('work_order_id', sa.String(length=36), nullable=False),
    sa.Column('sequence', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('work_centre_id', sa.String(length=36), nullable=False),
    sa.Column('setup_hours', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('run_hours_per_unit', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('good_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('scrap_quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('worked_hours', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('last_report_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['work_centre_id'], ['work_centres.id'], name=op.f('fk_wo_operations_work_centre_id_work_centres')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_wo_operations_work_order_id_work_orders')),
    sa.PrimaryKeyConstraint('work_order_id', 'sequence', name=op.f('pk_wo_operations'))
    )
    with op.batch_alter_table('wo_operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wo_operations__version'), ['_version'], unique=False)
        batch_op.create_index('ix_wo_operations_site_key', ['site_id', 'work_order_id', 'sequence'], unique=False)
        batch_op.create_index('ix_wo_operations_site_version', ['site_id', '_version'], unique=False)

    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.create_index('ix_stock_moves_document_id', ['document_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_moves_document_id')

    with op.batch_alter_table('wo_operations', schema=None) as batch_op:
        batch_op.drop_index('ix_wo_operations_site_version')
        batch_op.drop_index('ix_wo_operations_site_key')
        batch_op.drop_index(batch_op.f('ix_wo_operations__version'))

    op.drop_table('wo_operations')
    with op.batch_alter_table('wo_operation_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_wo_operation_reports_site_version')
        batch_op.drop_index('ix_wo_operation_reports_site_key')
        batch_op.drop_index('ix_wo_operation_reports_operation')
        batch_op.drop_index('ix_wo_operation_reports_occurred_at')
        batch_op.drop_index(batch_op.f('ix_wo_operation_reports__version'))

    op.drop_table('wo_operation_reports')
    with op.batch_alter_table('wo_materials', schema=None) as batch_op:
        batch_op.drop_index('ix_wo_materials_site_version')
        batch_op.drop_index('ix_wo_materials_site_key')
        batch_op.drop_index(batch_op.f('ix_wo_materials__version'))

    op.drop_table('wo_materials')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_work_orders_site_version')
        batch_op.drop_index('ix_work_orders_site_key')
        batch_op.drop_index(batch_op.f('ix_work_orders__version'))

    op.drop_table('work_orders')
    with op.batch_alter_table('routing_operations', schema=None) as batch_op:
        batch_op.drop_index('ix_routing_operations_site_version')
        batch_op.drop_index(batch_op.f('ix_routing_operations_routing_id'))
        batch_op.drop_index(batch_op.f('ix_routing_operations__version'))

    op.drop_table('routing_operations')
    with op.batch_alter_table('bom_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bom_lines_bom_id'))
        batch_op.drop_index(batch_op.f('ix_bom_lines__version'))

    op.drop_table('bom_lines')
    with op.batch_alter_table('routings', schema=None) as batch_op:
        batch_op.drop_index('ix_routings_site_version')
        batch_op.drop_index(batch_op.f('ix_routings__version'))

    op.drop_table('routings')
    with op.batch_alter_table('item_standard_costs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_standard_costs__version'))

    op.drop_table('item_standard_costs')
    with op.batch_alter_table('boms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_boms__version'))

    op.drop_table('boms')
    with op.batch_alter_table('work_centres', schema=None) as batch_op:
        batch_op.drop_index('ix_work_centres_site_version')
        batch_op.drop_index(batch_op.f('ix_work_centres__version'))

    op.drop_table('work_centres')
    with op.batch_alter_table('working_calendars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_working_calendars__version'))

    op.drop_table('working_calendars')
    with op.batch_alter_table('wo_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wo_exceptions_work_order_id'))
        batch_op.drop_index('ix_wo_exceptions_site_version')
        batch_op.drop_index('ix_wo_exceptions_site_key')
        batch_op.drop_index(batch_op.f('ix_wo_exceptions__version'))

    op.drop_table('wo_exceptions')
