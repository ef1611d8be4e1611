"""Reorder points (再订货点): per site and item, when to order more and how much.

One row per (item, site), set at HQ or by the branch (``inventory.set_reorder_point``, which
creates the row or overwrites it). Purchasing reads them to suggest orders
(erp/purchasing/purchase_suggestion.py): when the projected stock falls to the reorder point,
order ``reorder_quantity``, or enough to reach ``max_level`` when no fixed quantity is set,
rounded up to the supplier's minimum and multiple.

Invariants:
- reorder_point ≥ 0; exactly one of reorder_quantity (> 0) and max_level (> reorder_point) is
  set; min_order_quantity and order_multiple, when set, are > 0; lead_time_days is 0–365.
- The preferred supplier is a plain id: inventory does not depend on purchasing, which checks
  the supplier when it turns a suggestion into an order.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated

import msgspec
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from erp.inventory import count_errors as errors
from erp.inventory import errors as inventory_errors
from erp.inventory.stock_move import require_item
from erp.org.site import sites
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType, UtcDateTime

reorder_points = Table(
    "reorder_points",
    metadata,
    Column("item_id", ID, ForeignKey("items.id"), primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), primary_key=True),
    Column("reorder_point", DecimalType, nullable=False),  # order when projected stock is at or below it
    Column("reorder_quantity", DecimalType),  # a fixed quantity to order; or:
    Column("max_level", DecimalType),  # order up to this level
    Column("min_order_quantity", DecimalType),  # the supplier's minimum (起订量)
    Column("order_multiple", DecimalType),  # the supplier's pack size: order whole multiples of it
    Column("preferred_supplier_id", ID),
    Column("lead_time_days", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(120)),
    version_column(),
    field_versions_column(),
    Index("ix_reorder_points_site_key", "site_id", "item_id"),  # bootstrap reads a site in key order
)


class SetReorderPoint(msgspec.Struct, frozen=True):
    item_id: str
    site_id: str
    reorder_point: Decimal
    lead_time_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 0
    reorder_quantity: Decimal | None = None
    max_level: Decimal | None = None
    min_order_quantity: Decimal | None = None
    order_multiple: Decimal | None = None
    preferred_supplier_id: str | None = None


def _invalid(ctx: MutationContext, message: str, **details: str) -> None:
    ctx.reject(errors.INVALID_REORDER_POINT, message, **details)


def check(ctx: MutationContext, args: SetReorderPoint) -> None:
    values = {"reorder_point": args.reorder_point, "reorder_quantity": args.reorder_quantity,
              "max_level": args.max_level, "min_order_quantity": args.min_order_quantity,
              "order_multiple": args.order_multiple}
    for name, value in values.items():
        exponent = value.as_tuple().exponent if value is not None else 0
        if value is not None and (not value.is_finite() or value < 0 or (isinstance(exponent, int) and exponent < -9)):
            _invalid(ctx, f"{name} {value} is not a quantity ≥ 0 with at most 9 decimals", field=name)
    if (args.reorder_quantity is None) == (args.max_level is None):
        _invalid(ctx, "set either a reorder quantity or a maximum level, not both or neither")
    if args.reorder_quantity is not None and args.reorder_quantity <= 0:
        _invalid(ctx, "the reorder quantity must be above zero", field="reorder_quantity")
    if args.max_level is not None and args.max_level <= args.reorder_point:
        _invalid(ctx, "the maximum level must be above the reorder point", field="max_level")
    for name in ("min_order_quantity", "order_multiple"):
        if values[name] is not None and values[name] <= 0:
            _invalid(ctx, f"{name} must be above zero when set", field=name)


@mutation("inventory.set_reorder_point", 1, SetReorderPoint)
def set_reorder_point(ctx: MutationContext, args: SetReorderPoint) -> None:
    """Create or overwrite the reorder point of an item at a site."""
    check(ctx, args)
    require_item(ctx, args.item_id)
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(inventory_errors.UNKNOWN_SITE, "this site does not exist", site_id=args.site_id)
    values = {"reorder_point": args.reorder_point, "reorder_quantity": args.reorder_quantity,
              "max_level": args.max_level, "min_order_quantity": args.min_order_quantity,
              "order_multiple": args.order_multiple, "preferred_supplier_id": args.preferred_supplier_id,
              "lead_time_days": args.lead_time_days, "updated_at": datetime.now(timezone.utc),
              "updated_by": ctx.actor.user}
    key = {"item_id": args.item_id, "site_id": args.site_id}
    current = ctx.get(reorder_points, **key)
    if current is None:
        ctx.insert(reorder_points, {**key, **values})
    else:
        ctx.update(reorder_points, key, values, current=current)
