"""Warehouses and their locations: master data scoped to one site.

A warehouse carries the negative-stock policy for moves in its locations:
``allow`` (say nothing), ``flag`` (the default: apply and raise an inventory exception) or
``reject`` (refuse the move). Warehouses are created at HQ; a device may add locations (bins)
in its own site.

A location's ``kind`` says what it is for: ``receiving`` (the dock, where receipts land),
``storage`` (a bin goods are put away to; the default), ``shipping`` (staged for delivery) or
``line_side`` (next to a production line). Put-away suggests storage bins only
(``putaway.suggest_putaway``).
"""

from __future__ import annotations

from typing import Literal

import msgspec
from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint, select

from erp.inventory import errors
from erp.org.site import sites
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column

NegativeStockPolicy = Literal["allow", "flag", "reject"]
LocationKind = Literal["receiving", "storage", "shipping", "line_side"]

warehouses = Table(
    "warehouses",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("negative_stock_policy", String(8), nullable=False, default="flag"),
    version_column(),
    field_versions_column(),
)

locations = Table(
    "locations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("warehouse_id", ID, ForeignKey("warehouses.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False, default="storage", server_default="storage"),  # LocationKind
    UniqueConstraint("warehouse_id", "code"),
    version_column(),
    field_versions_column(),
)


class CreateWarehouse(msgspec.Struct, frozen=True):
    warehouse_id: str
    site_id: str
    code: str
    name: str
    negative_stock_policy: NegativeStockPolicy = "flag"


class UpdateWarehouse(msgspec.Struct, frozen=True):
    warehouse_id: str
    name: Edit[str] | None = None
    negative_stock_policy: Edit[NegativeStockPolicy] | None = None


class CreateLocation(msgspec.Struct, frozen=True):
    location_id: str
    warehouse_id: str
    code: str
    name: str
    kind: LocationKind = "storage"


@mutation("inventory.create_warehouse", 1, CreateWarehouse)
def create_warehouse(ctx: MutationContext, args: CreateWarehouse) -> None:
    """Register a warehouse in a site (HQ only, enforced by the table's spec)."""
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.UNKNOWN_SITE, "this site does not exist", site_id=args.site_id)
    if ctx.conn.execute(select(warehouses.c.id).where(warehouses.c.code == args.code)).first() is not None:
        ctx.reject(errors.CODE_TAKEN, f"warehouse {args.code} already exists", warehouse_code=args.code)
    ctx.insert(
        warehouses,
        {
            "id": args.warehouse_id,
            "site_id": args.site_id,
            "code": args.code,
            "name": args.name,
            "negative_stock_policy": args.negative_stock_policy,
        },
    )


@mutation("inventory.update_warehouse", 1, UpdateWarehouse)
def update_warehouse(ctx: MutationContext, args: UpdateWarehouse) -> None:
    """Rename a warehouse or change its negative-stock policy, field by field."""
    if ctx.get(warehouses, id=args.warehouse_id) is None:
        ctx.reject(errors.UNKNOWN_WAREHOUSE, "this warehouse does not exist", warehouse_id=args.warehouse_id)
    ctx.merge_master(
        warehouses,
        {"id": args.warehouse_id},
        {"name": args.name, "negative_stock_policy": args.negative_stock_policy},
    )


@mutation("inventory.create_location", 1, CreateLocation)
def create_location(ctx: MutationContext, args: CreateLocation) -> None:
    """Add a location (bin) to a warehouse of the device's site."""
    warehouse = ctx.get(warehouses, id=args.warehouse_id)
    if warehouse is None:
        ctx.reject(errors.UNKNOWN_WAREHOUSE, "this warehouse does not exist", warehouse_id=args.warehouse_id)
    taken = ctx.conn.execute(
        select(locations.c.id).where(
            locations.c.warehouse_id == args.warehouse_id, locations.c.code == args.code
        )
    ).first()
    if taken is not None:
        ctx.reject(errors.CODE_TAKEN, f"location {args.code} already exists here",
                   location_code=args.code)
    ctx.insert(
        locations,
        {
            "id": args.location_id,
            "site_id": warehouse["site_id"],
            "warehouse_id": args.warehouse_id,
            "code": args.code,
            "name": args.name,
            "kind": args.kind,
        },
    )
