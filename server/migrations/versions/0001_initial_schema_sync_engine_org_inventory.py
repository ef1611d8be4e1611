"""initial schema: sync engine, org, inventory

Revision ID: 0001
Revises:
Create Date: 2026-11-24 01:25:50.265866
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sites',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('code', name=op.f('uq_sites_code'))
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sites__version'), ['_version'], unique=False)

    op.create_table('sync_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_clock'))
    )
    op.create_table('sync_conflicts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('table_name', sa.String(length=120), nullable=False),
    sa.Column('row_key', sa.Text(), nullable=False),
    sa.Column('field', sa.String(length=120), nullable=False),
    sa.Column('base_version', sa.BigInteger(), nullable=False),
    sa.Column('device_value_json', sa.Text(), nullable=False),
    sa.Column('server_value_json', sa.Text(), nullable=False),
    sa.Column('kept', sa.String(length=8), nullable=False),
    sa.Column('detected_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts'))
    )
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_conflicts__version'), ['_version'], unique=False)

    op.create_table('sync_devices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('last_applied_seq', sa.BigInteger(), nullable=False),
    sa.Column('enrolled_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sync.types.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_devices')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sync_devices_token_hash'))
    )
    with op.batch_alter_table('sync_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_devices_site_id'), ['site_id'], unique=False)

    op.create_table('sync_mutation_log',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('mutation', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=120), nullable=True),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=True),
    sa.Column('commit_version', sa.BigInteger(), nullable=False),
    sa.Column('processed_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('device_id', 'seq', name=op.f('pk_sync_mutation_log'))
    )
    op.create_table('sync_rejections',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('mutation', sa.String(length=120), nullable=False),
    sa.Column('mutation_version', sa.Integer(), nullable=False),
    sa.Column('args_json', sa.Text(), nullable=False),
    sa.Column('code', sa.String(length=120), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details_json', sa.Text(), nullable=False),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=True),
    sa.Column('rejected_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolution_seq', sa.BigInteger(), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_rejections'))
    )
    with op.batch_alter_table('sync_rejections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_rejections__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_rejections_code'), ['code'], unique=False)

    op.create_table('sync_tombstones',
    sa.Column('table_name', sa.String(length=120), nullable=False),
    sa.Column('row_key', sa.Text(), nullable=False),
    sa.Column('scope_value', sa.String(length=36), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('table_name', 'row_key', name=op.f('pk_sync_tombstones'))
    )
    with op.batch_alter_table('sync_tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_tombstones__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_tombstones_scope_value'), ['scope_value'], unique=False)

    op.create_table('units',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_units'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units__version'), ['_version'], unique=False)

    op.create_table('items',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('unit_code', sa.String(length=16), nullable=False),
    sa.Column('barcode', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_items_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('sku', name=op.f('uq_items_sku'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items__version'), ['_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_barcode'), ['barcode'], unique=False)

    op.create_table('warehouses',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('negative_stock_policy', sa.String(length=8), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_warehouses_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouses')),
    sa.UniqueConstraint('code', name=op.f('uq_warehouses_code'))
    )
    with op.batch_alter_table('warehouses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warehouses__version'), ['_version'], unique=False)

    op.create_table('locations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('warehouse_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_locations_site_id_sites')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_locations_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('warehouse_id', 'code', name=op.f('uq_locations_warehouse_id_code'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations__version'), ['_version'], unique=False)

    op.create_table('inventory_exceptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('involved_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('raised_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_inventory_exceptions_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_inventory_exceptions_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_exceptions'))
    )
    with op.batch_alter_table('inventory_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_exceptions__version'), ['_version'], unique=False)
        batch_op.create_index('ix_inventory_exceptions_site_version', ['site_id', '_version'], unique=False)

    op.create_table('on_hand',
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_on_hand_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_on_hand_location_id_locations')),
    sa.PrimaryKeyConstraint('item_id', 'location_id', name=op.f('pk_on_hand'))
    )
    with op.batch_alter_table('on_hand', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_on_hand__version'), ['_version'], unique=False)
        batch_op.create_index('ix_on_hand_site_version', ['site_id', '_version'], unique=False)

    op.create_table('stock_moves',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sync.types.DecimalType(length=48), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=True),
    sa.Column('reverses_id', sa.String(length=36), nullable=True),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.Column('occurred_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=True),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_stock_moves_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_stock_moves_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_moves')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_stock_moves_reverses_id'))
    )
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_moves__version'), ['_version'], unique=False)
        batch_op.create_index('ix_stock_moves_item_location', ['item_id', 'location_id'], unique=False)
        batch_op.create_index('ix_stock_moves_occurred_at', ['occurred_at'], unique=False)
        batch_op.create_index('ix_stock_moves_site_version', ['site_id', '_version'], unique=False)

    # ### end Alembic commands ###
    # The change clock starts at 0; every write transaction advances it (sync.server_apply).
    op.execute("INSERT INTO sync_clock (id, version) VALUES (1, 0)")


def downgrade() -> None:
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_moves_site_version')
        batch_op.drop_index('ix_stock_moves_occurred_at')
        batch_op.drop_index('ix_stock_moves_item_location')
        batch_op.drop_index(batch_op.f('ix_stock_moves__version'))

    op.drop_table('stock_moves')
    with op.batch_alter_table('on_hand', schema=None) as batch_op:
        batch_op.drop_index('ix_on_hand_site_version')
        batch_op.drop_index(batch_op.f('ix_on_hand__version'))

    op.drop_table('on_hand')
    with op.batch_alter_table('inventory_exceptions', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_exceptions_site_version')
        batch_op.drop_index(batch_op.f('ix_inventory_exceptions__version'))

    op.drop_table('inventory_exceptions')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations__version'))

    op.drop_table('locations')
    with op.batch_alter_table('warehouses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warehouses__version'))

    op.drop_table('warehouses')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_barcode'))
        batch_op.drop_index(batch_op.f('ix_items__version'))

    op.drop_table('items')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units__version'))

    op.drop_table('units')
    with op.batch_alter_table('sync_tombstones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_tombstones_scope_value'))
        batch_op.drop_index(batch_op.f('ix_sync_tombstones__version'))

    op.drop_table('sync_tombstones')
    with op.batch_alter_table('sync_rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_rejections_code'))
        batch_op.drop_index(batch_op.f('ix_sync_rejections__version'))

    op.drop_table('sync_rejections')
    op.drop_table('sync_mutation_log')
    with op.batch_alter_table('sync_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_devices_site_id'))

    op.drop_table('sync_devices')
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_conflicts__version'))

    op.drop_table('sync_conflicts')
    op.drop_table('sync_clock')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sites__version'))

    op.drop_table('sites')
    # ### end Alembic commands ###
