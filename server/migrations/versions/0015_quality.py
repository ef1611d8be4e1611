"""quality: inspection plans and their characteristics, inspection results, nonconformances

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspection_plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('supplier_id', sa.String(length=36), nullable=True),
    sa.Column('operation_seq', sa.Integer(), nullable=True),
    sa.Column('sample_kind', sa.String(length=8), nullable=False),
    sa.Column('sample_value', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('supersedes_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_inspection_plans_item_id_items')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_inspection_plans_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_plans')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_inspection_plans_code_version'))
    )
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_plans__version'), ['_version'], unique=False)
        batch_op.create_index('ix_inspection_plans_item_stage', ['item_id', 'stage'], unique=False)

    op.create_table('plan_characteristics',
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('nominal', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('lower', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('upper', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], name=op.f('fk_plan_characteristics_plan_id_inspection_plans')),
    sa.PrimaryKeyConstraint('plan_id', 'line_no', name=op.f('pk_plan_characteristics')),
    sa.UniqueConstraint('plan_id', 'name', name=op.f('uq_plan_characteristics_plan_id_name'))
    )
    with op.batch_alter_table('plan_characteristics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_characteristics__version'), ['_version'], unique=False)

    op.create_table('inspection_results',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('lot_no', sa.String(length=64), nullable=True),
    sa.Column('source_id', sa.String(length=36), nullable=True),
    sa.Column('operation_seq', sa.Integer(), nullable=True),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.Column('lot_quantity', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('verdict', sa.String(length=8), nullable=False),
    sa.Column('failed', sa.Text(), nullable=True),
    sa.Column('measurements_json', sa.Text(), nullable=False),
    sa.Column('flags', sa.String(length=200), nullable=True),
    sa.Column('supersedes_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('occurred_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('inspector', sa.String(length=120), nullable=True),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_results')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_inspection_results_supersedes_id'))
    )
    with op.batch_alter_table('inspection_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_results__version'), ['_version'], unique=False)
        batch_op.create_index('ix_inspection_results_item_lot', ['item_id', 'lot_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_results_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index('ix_inspection_results_site_key', ['site_id', 'id'], unique=False)
        batch_op.create_index('ix_inspection_results_source', ['source_id'], unique=False)

    op.create_table('nonconformances',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('result_id', sa.String(length=36), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('lot_no', sa.String(length=64), nullable=True),
    sa.Column('source_id', sa.String(length=36), nullable=True),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('disposition', sa.String(length=24), nullable=True),
    sa.Column('disposition_quantity', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('disposition_note', sa.Text(), nullable=True),
    sa.Column('scrap_move_id', sa.String(length=36), nullable=True),
    sa.Column('raised_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('raised_by', sa.String(length=120), nullable=True),
    sa.Column('dispositioned_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('dispositioned_by', sa.String(length=120), nullable=True),
    sa.Column('closed_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nonconformances')),
    sa.UniqueConstraint('result_id', name=op.f('uq_nonconformances_result_id'))
    )
    with op.batch_alter_table('nonconformances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nonconformances__version'), ['_version'], unique=False)
        batch_op.create_index('ix_nonconformances_item_lot', ['item_id', 'lot_no'], unique=False)
        batch_op.create_index('ix_nonconformances_site_key', ['site_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('nonconformances', schema=None) as batch_op:
        batch_op.drop_index('ix_nonconformances_site_key')
        batch_op.drop_index('ix_nonconformances_item_lot')
        batch_op.drop_index(batch_op.f('ix_nonconformances__version'))

    op.drop_table('nonconformances')
    with op.batch_alter_table('inspection_results', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_results_source')
        batch_op.drop_index('ix_inspection_results_site_key')
        batch_op.drop_index(batch_op.f('ix_inspection_results_plan_id'))
        batch_op.drop_index('ix_inspection_results_item_lot')
        batch_op.drop_index(batch_op.f('ix_inspection_results__version'))

    op.drop_table('inspection_results')
    with op.batch_alter_table('plan_characteristics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_characteristics__version'))

    op.drop_table('plan_characteristics')
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_plans_item_stage')
        batch_op.drop_index(batch_op.f('ix_inspection_plans__version'))

    op.drop_table('inspection_plans')
