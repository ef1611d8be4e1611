"""Suppliers: master data shared by every site, created at HQ.

Devices receive every supplier (a receipt shows whose goods arrived) but create none; names,
contact and the active flag merge field by field like other master data.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import Boolean, Column, String, Table, select

from erp.purchasing import errors
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column

suppliers = Table(
    "suppliers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("contact", String(200)),  # a person's name at the supplier, not personal data of ours
    Column("active", Boolean, nullable=False, default=True),
    version_column(),
    field_versions_column(),
)


class CreateSupplier(msgspec.Struct, frozen=True):
    supplier_id: str
    code: str
    name: str
    contact: str | None = None


class UpdateSupplier(msgspec.Struct, frozen=True):
    supplier_id: str
    name: Edit[str] | None = None
    contact: Edit[str | None] | None = None
    active: Edit[bool] | None = None


@mutation("purchasing.create_supplier", 1, CreateSupplier)
def create_supplier(ctx: MutationContext, args: CreateSupplier) -> None:
    """Register a supplier (HQ only)."""
    if ctx.conn.execute(select(suppliers.c.id).where(suppliers.c.code == args.code)).first() is not None:
        ctx.reject(errors.SUPPLIER_CODE_TAKEN, f"supplier {args.code} already exists", supplier_code=args.code)
    ctx.insert(suppliers, {"id": args.supplier_id, "code": args.code, "name": args.name, "contact": args.contact,
                           "active": True})


@mutation("purchasing.update_supplier", 1, UpdateSupplier)
def update_supplier(ctx: MutationContext, args: UpdateSupplier) -> None:
    """Edit a supplier's name, contact or active flag, field by field."""
    if ctx.get(suppliers, id=args.supplier_id) is None:
        ctx.reject(errors.UNKNOWN_SUPPLIER, "this supplier does not exist", supplier_id=args.supplier_id)
    ctx.merge_master(suppliers, {"id": args.supplier_id},
                     {"name": args.name, "contact": args.contact, "active": args.active})
