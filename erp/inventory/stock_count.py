"""Stock counts: a counted quantity becomes an adjustment move of kind ``count``.

The count is a physical fact taken at one moment. The server turns it into the difference
between the counted quantity and the on-hand it holds when it applies the count, so after the
count the ledger agrees with the shelf. A count that matches still leaves a zero move, as the
record that the location was counted.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import UtcMoment, check_quantity, post_move, require_item, require_location
from sync.context import MutationContext
from sync.registry import mutation


class Count(msgspec.Struct, frozen=True):
    move_id: str
    item_id: str
    location_id: str
    counted_quantity: Decimal
    occurred_at: UtcMoment


@mutation("inventory.count", 1, Count)
def count(ctx: MutationContext, args: Count) -> None:
    """Record a counted quantity; the ledger is adjusted to match it."""
    check_quantity(ctx, args.counted_quantity, allow_zero=True)
    require_item(ctx, args.item_id)
    location = require_location(ctx, args.location_id)
    current = ctx.get(on_hand, item_id=args.item_id, location_id=args.location_id)
    system_quantity = current["quantity"] if current is not None else Decimal(0)
    post_move(ctx, move_id=args.move_id, kind="count", item_id=args.item_id, location=location,
              quantity=args.counted_quantity - system_quantity, occurred_at=args.occurred_at,
              reference=f"counted {args.counted_quantity}, system {system_quantity}")
