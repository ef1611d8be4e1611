"""Items and units of measure: shared master data, created at HQ, edited field by field.

Every device receives every item. Devices may edit an item's name or barcode (a clerk fixes a
label on the floor); the edit carries the base version of each field, and a field changed at
HQ meanwhile keeps HQ's value and leaves a conflict record (policy: server wins).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, select

from erp.inventory import errors
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column

units = Table(
    "units",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("name", String(100), nullable=False),
    version_column(),
    field_versions_column(),
)

items = Table(
    "items",
    metadata,
    Column("id", ID, primary_key=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("unit_code", String(16), ForeignKey("units.code"), nullable=False),
    Column("barcode", String(64), index=True),
    Column("active", Boolean, nullable=False, default=True),
    # none | lot | serial: whether each move of the item names a lot (批次) or a serial number
    Column("tracking", String(8), nullable=False, default="none", server_default="none"),
    Column("shelf_life_days", Integer),  # a lot's default expiry after receipt, for lot-tracked items
    # moving_average | fifo | monthly_weighted (月末一次加权): how stock of this item is valued
    Column("valuation_method", String(16), nullable=False, default="moving_average", server_default="moving_average"),
    version_column(),
    field_versions_column(),
)


class CreateUnit(msgspec.Struct, frozen=True):
    code: str
    name: str


Tracking = Literal["none", "lot", "serial"]
ValuationMethod = Literal["moving_average", "fifo", "monthly_weighted"]


class CreateItem(msgspec.Struct, frozen=True):
    item_id: str
    sku: str
    name: str
    unit_code: str
    barcode: str | None = None
    tracking: Tracking = "none"
    shelf_life_days: Annotated[int, msgspec.Meta(ge=1, le=36500)] | None = None
    valuation_method: ValuationMethod = "moving_average"


class UpdateItem(msgspec.Struct, frozen=True):
    item_id: str
    name: Edit[str] | None = None
    barcode: Edit[str | None] | None = None
    active: Edit[bool] | None = None


@mutation("inventory.create_unit", 1, CreateUnit)
def create_unit(ctx: MutationContext, args: CreateUnit) -> None:
    """Register a unit of measure (HQ only)."""
    if ctx.get(units, code=args.code) is not None:
        ctx.reject(errors.CODE_TAKEN, f"unit {args.code} already exists", unit_code=args.code)
    ctx.insert(units, {"code": args.code, "name": args.name})


@mutation("inventory.create_item", 1, CreateItem)
def create_item(ctx: MutationContext, args: CreateItem) -> None:
    """Register an item (HQ only)."""
    if ctx.get(units, code=args.unit_code) is None:
        ctx.reject(errors.UNKNOWN_UNIT, f"unit {args.unit_code} does not exist", unit_code=args.unit_code)
    if ctx.conn.execute(select(items.c.id).where(items.c.sku == args.sku)).first() is not None:
        ctx.reject(errors.SKU_TAKEN, f"SKU {args.sku} is already used", sku=args.sku)
    ctx.insert(
        items,
        {
            "id": args.item_id,
            "sku": args.sku,
            "name": args.name,
            "unit_code": args.unit_code,
            "barcode": args.barcode,
            "active": True,
            "tracking": args.tracking,
            "shelf_life_days": args.shelf_life_days,
            "valuation_method": args.valuation_method,
        },
    )


@mutation("inventory.update_item", 1, UpdateItem)
def update_item(ctx: MutationContext, args: UpdateItem) -> None:
    """Edit an item's name, barcode or active flag, field by field."""
    if ctx.get(items, id=args.item_id) is None:
        ctx.reject(errors.UNKNOWN_ITEM, "this item does not exist", item_id=args.item_id)
    ctx.merge_master(
        items, {"id": args.item_id}, {"name": args.name, "barcode": args.barcode, "active": args.active}
    )
