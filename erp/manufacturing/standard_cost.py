"""Standard costs of items, for costing work orders: what one unit of an item is valued at.

Items (``inventory``) carry no cost yet, and inventory valuation (FIFO, moving average) belongs
to a finance module that does not exist yet. Until then manufacturing keeps this minimal table
of its own: one standard cost per item, in yuan per stock unit, set at HQ. Work-order costing
values material at it (``costing.py``); an item without a row is reported as uncosted, never
valued at zero silently.

Invariants: a standard cost is a finite Decimal ≥ 0 with at most 9 decimals; one row per item.
"""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec
from sqlalchemy import Column, ForeignKey, Table

from erp.inventory.stock_move import require_item
from erp.manufacturing.checks import check_amount
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import FIELD_VERSIONS_COLUMN, field_versions_column, version_column
from sync.types import DecimalType

item_standard_costs = Table(
    "item_standard_costs",
    metadata,
    Column("item_id", ID, ForeignKey("items.id"), primary_key=True),
    Column("standard_cost", DecimalType, nullable=False),  # yuan per stock unit
    version_column(),
    field_versions_column(),
)


class SetStandardCost(msgspec.Struct, frozen=True):
    item_id: str
    standard_cost: Decimal
    # The field version the new cost is based on (from GET), so a cost changed meanwhile by
    # someone else is kept and reported as a conflict; None: replace whatever is there.
    base_version: int | None = None


@mutation("manufacturing.set_standard_cost", 1, SetStandardCost)
def set_standard_cost(ctx: MutationContext, args: SetStandardCost) -> None:
    """Set an item's standard cost (HQ only): the first time creates it, later an edit."""
    check_amount(ctx, args.standard_cost, "standard_cost")
    require_item(ctx, args.item_id)
    current = ctx.get(item_standard_costs, item_id=args.item_id)
    if current is None:
        ctx.insert(item_standard_costs, {"item_id": args.item_id, "standard_cost": args.standard_cost})
        return
    base = args.base_version
    if base is None:
        base = json.loads(current[FIELD_VERSIONS_COLUMN] or "{}").get("standard_cost", 0)
    ctx.merge_master(item_standard_costs, {"item_id": args.item_id}, {"standard_cost": Edit(args.standard_cost, base)})
