"""site-scoped key indexes for bootstrap reads

A bootstrap chunk reads ``WHERE site_id = ? AND <key> > ? ORDER BY <key> LIMIT n``. With only
``(site_id, _version)`` to use, the database sorts the site's remaining rows for every chunk;
an index on (site_id, key) reads the chunk in order. For the large site-scoped tables:
stock_moves and inventory_exceptions (key id) and on_hand (key item_id, location_id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 02:25:00
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_stock_moves_site_key', 'stock_moves', ['site_id', 'id']),
    ('ix_inventory_exceptions_site_key', 'inventory_exceptions', ['site_id', 'id']),
    ('ix_on_hand_site_key', 'on_hand', ['site_id', 'item_id', 'location_id']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
