"""planning: item planning parameters, demand forecasts, MRP runs, planned orders and their pegging

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mrp_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('run_date', sa.String(length=10), nullable=False),
    sa.Column('calendar_id', sa.String(length=36), nullable=True),
    sa.Column('started_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('run_by', sa.String(length=120), nullable=True),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('demand_lines', sa.Integer(), nullable=False),
    sa.Column('purchase_proposals', sa.Integer(), nullable=False),
    sa.Column('make_proposals', sa.Integer(), nullable=False),
    sa.Column('past_due', sa.Integer(), nullable=False),
    sa.Column('discarded', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['working_calendars.id'], name=op.f('fk_mrp_runs_calendar_id_working_calendars')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_mrp_runs_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mrp_runs'))
    )
    with op.batch_alter_table('mrp_runs', schema=None) as batch_op:
        batch_op.create_index('ix_mrp_runs_site_started', ['site_id', 'started_at'], unique=False)

    op.create_table('demand_forecasts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('due_date', sa.String(length=10), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_demand_forecasts_item_id_items')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_demand_forecasts_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_forecasts'))
    )
    with op.batch_alter_table('demand_forecasts', schema=None) as batch_op:
        batch_op.create_index('ix_demand_forecasts_site_item', ['site_id', 'item_id', 'due_date'], unique=False)

    op.create_table('planned_orders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('release_date', sa.String(length=10), nullable=False),
    sa.Column('due_date', sa.String(length=10), nullable=False),
    sa.Column('past_due', sa.Boolean(), nullable=False),
    sa.Column('plan_ref', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('converted_document_id', sa.String(length=36), nullable=True),
    sa.Column('decided_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_planned_orders_item_id_items')),
    sa.ForeignKeyConstraint(['run_id'], ['mrp_runs.id'], name=op.f('fk_planned_orders_run_id_mrp_runs')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_planned_orders_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_orders'))
    )
    with op.batch_alter_table('planned_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_orders_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_planned_orders_site_status', ['site_id', 'status'], unique=False)

    op.create_table('item_planning',
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('procurement', sa.String(length=8), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('safety_stock', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('lot_rule', sa.String(length=16), nullable=False),
    sa.Column('lot_quantity', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('lot_minimum', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('lot_multiple', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('supplier_id', sa.String(length=36), nullable=True),
    sa.Column('unit_price', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('work_centre_id', sa.String(length=36), nullable=True),
    sa.Column('routing_id', sa.String(length=36), nullable=True),
    sa.Column('issue_location_id', sa.String(length=36), nullable=True),
    sa.Column('receipt_location_id', sa.String(length=36), nullable=True),
    sa.Column('updated_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['issue_location_id'], ['locations.id'], name=op.f('fk_item_planning_issue_location_id_locations')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_planning_item_id_items')),
    sa.ForeignKeyConstraint(['receipt_location_id'], ['locations.id'], name=op.f('fk_item_planning_receipt_location_id_locations')),
    sa.ForeignKeyConstraint(['routing_id'], ['routings.id'], name=op.f('fk_item_planning_routing_id_routings')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_item_planning_site_id_sites')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_item_planning_supplier_id_suppliers')),
    sa.ForeignKeyConstraint(['work_centre_id'], ['work_centres.id'], name=op.f('fk_item_planning_work_centre_id_work_centres')),
    sa.PrimaryKeyConstraint('site_id', 'item_id', name=op.f('pk_item_planning'))
    )
    op.create_table('planned_order_pegs',
    sa.Column('planned_order_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('demand_ref', sa.String(length=120), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.ForeignKeyConstraint(['planned_order_id'], ['planned_orders.id'], name=op.f('fk_planned_order_pegs_planned_order_id_planned_orders')),
    sa.PrimaryKeyConstraint('planned_order_id', 'line_no', name=op.f('pk_planned_order_pegs'))
    )


def downgrade() -> None:
    op.drop_table('planned_order_pegs')
    op.drop_table('item_planning')
    with op.batch_alter_table('planned_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_planned_orders_site_status')
        batch_op.drop_index(batch_op.f('ix_planned_orders_run_id'))

    op.drop_table('planned_orders')
    with op.batch_alter_table('demand_forecasts', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_forecasts_site_item')

    op.drop_table('demand_forecasts')
    with op.batch_alter_table('mrp_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_mrp_runs_site_started')

    op.drop_table('mrp_runs')
