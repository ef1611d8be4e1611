"""Stock counts: a counted quantity becomes an adjustment move of kind ``count``.

The count is a physical fact taken at one moment. The server turns it into the difference
between the counted quantity and the system quantity it holds, so after the count the ledger
agrees with the shelf. A count that matches still leaves a zero move, as the record that the
location was counted.

Two ways in, one rule (``post_count``):
- ``inventory.count`` counts one item at one location and adjusts at once, against the
  on-hand the server holds when it applies the count;
- a cycle count (cycle_count.py) takes the system quantity when each line is counted and
  posts the differences only when the count is approved.

For a lot (``lot_no``) the system quantity is the sum of that lot's moves at the location:
on-hand is kept per item and location, not per lot.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import select

from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import UtcMoment, check_quantity, post_move, require_item, require_location, stock_moves
from sync.context import MutationContext
from sync.registry import mutation


class Count(msgspec.Struct, frozen=True):
    move_id: str
    item_id: str
    location_id: str
    counted_quantity: Decimal
    occurred_at: UtcMoment


def system_quantity(ctx: MutationContext, *, item_id: str, location_id: str, lot_no: str | None = None) -> Decimal:
    """What the ledger says is there now: the on-hand row, or the lot's moves summed."""
    if lot_no is None:
        current = ctx.get(on_hand, item_id=item_id, location_id=location_id)
        return current["quantity"] if current is not None else Decimal(0)
    # Summed in Python: SQLite keeps Decimals as text, whose SQL sum would go through floats.
    quantities = ctx.conn.execute(select(stock_moves.c.quantity).where(
        stock_moves.c.item_id == item_id, stock_moves.c.location_id == location_id,
        stock_moves.c.lot_no == lot_no)).scalars()
    return sum(quantities, Decimal(0))


def post_count(
    ctx: MutationContext, *, move_id: str, item_id: str, location: Any, counted: Decimal, system: Decimal,
    occurred_at: datetime, document_id: str | None = None, lot_no: str | None = None,
) -> bool:
    """Append the count move that brings ``system`` to ``counted``. False if already recorded."""
    return post_move(ctx, move_id=move_id, kind="count", item_id=item_id, location=location,
                     quantity=counted - system, occurred_at=occurred_at, document_id=document_id, lot_no=lot_no,
                     reference=f"counted {counted}, system {system}")


@mutation("inventory.count", 1, Count)
def count(ctx: MutationContext, args: Count) -> None:
    """Record a counted quantity; the ledger is adjusted to match it."""
    check_quantity(ctx, args.counted_quantity, allow_zero=True)
    require_item(ctx, args.item_id)
    location = require_location(ctx, args.location_id)
    post_count(ctx, move_id=args.move_id, item_id=args.item_id, location=location, counted=args.counted_quantity,
               system=system_quantity(ctx, item_id=args.item_id, location_id=args.location_id),
               occurred_at=args.occurred_at)
