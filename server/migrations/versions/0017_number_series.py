"""number series: the server's counter per site and document type, the blocks devices
reserve, the number (and replaced provisional number) of service tickets, and the replaced
provisional number of sales orders a branch device took

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 09:59:22.685950
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('number_blocks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('document_type', sa.String(length=32), nullable=False),
    sa.Column('first_number', sa.BigInteger(), nullable=False),
    sa.Column('last_number', sa.BigInteger(), nullable=False),
    sa.Column('reserved_at', sync.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_number_blocks'))
    )
    with op.batch_alter_table('number_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_number_blocks__version'), ['_version'], unique=False)
        batch_op.create_index('ix_number_blocks_device_key', ['device_id', 'id'], unique=False)
        batch_op.create_index('ix_number_blocks_series', ['site_id', 'document_type', 'first_number'], unique=False)

    op.create_table('number_series',
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('document_type', sa.String(length=32), nullable=False),
    sa.Column('next_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'document_type', name=op.f('pk_number_series'))
    )
    with op.batch_alter_table('service_tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('provisional_number', sa.String(length=48), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_service_tickets_number'), ['number'])

    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provisional_number', sa.String(length=48), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.drop_column('provisional_number')

    with op.batch_alter_table('service_tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_service_tickets_number'), type_='unique')
        batch_op.drop_column('provisional_number')
        batch_op.drop_column('number')

    op.drop_table('number_series')
    with op.batch_alter_table('number_blocks', schema=None) as batch_op:
        batch_op.drop_index('ix_number_blocks_series')
        batch_op.drop_index('ix_number_blocks_device_key')
        batch_op.drop_index(batch_op.f('ix_number_blocks__version'))

    op.drop_table('number_blocks')
