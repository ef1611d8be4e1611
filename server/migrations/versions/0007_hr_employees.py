"""employees and their personal data (HR)

The personal columns (id_number, phone, bank_account, monthly_salary) hold plaintext on the
server; their column type (``sync.personal.PersonalData``) encrypts only on a device's replica,
so here they are created as the types they wrap.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 06:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sync.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hr_employees',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('employee_no', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_number', sa.String(length=32), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('bank_account', sa.String(length=34), nullable=True),
    sa.Column('monthly_salary', sync.types.DecimalType(length=48), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('_version', sa.BigInteger(), nullable=False),
    sa.Column('_fv', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_hr_employees_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_employees')),
    sa.UniqueConstraint('employee_no', name=op.f('uq_hr_employees_employee_no'))
    )
    with op.batch_alter_table('hr_employees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_employees__version'), ['_version'], unique=False)
        batch_op.create_index('ix_hr_employees_site_key', ['site_id', 'id'], unique=False)
        batch_op.create_index('ix_hr_employees_site_version', ['site_id', '_version'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('hr_employees', schema=None) as batch_op:
        batch_op.drop_index('ix_hr_employees_site_version')
        batch_op.drop_index('ix_hr_employees_site_key')
        batch_op.drop_index(batch_op.f('ix_hr_employees__version'))

    op.drop_table('hr_employees')
