"""Pegging: what each planned order covers, one level up, and the trace down to the end demand.

A planned order's pegging lists what its quantity is for, as ``Peg(demand_id, quantity,
source)``. Pegging is single-level: a component's planned order pegs to the *parent planned
orders* whose component requirement it covers (``PLANNED_ORDER``), not to the sales order at
the top. Why:

- it is exact — the parent order did cause that requirement, on that date, in that quantity —
  whereas which sales order a shared sub-assembly serves is a matter of apportioning;
- it stays linear in the size of the plan: pegging every raw-material order to every end demand
  it serves multiplies the demand lines by the number of items below them (millions of pegs at
  10,000 items and 50,000 demand lines), which no planner reads whole;
- the end demand is still one call away: ``trace_to_end_demand`` follows the chain upwards and
  apportions each parent's pegging in proportion to its quantity.

A phantom creates no order, so requirements passed through a phantom keep the peg of the
requirement the phantom received (its parent's planned order, or a demand line).

Invariants (kept by ``run_mrp`` and checked by the property tests):
- the pegs of a planned order sum exactly to its quantity;
- a peg's quantity is above zero, and a planned order pegs to each (source, demand_id) once;
- ``trace_to_end_demand`` returns pegs that sum exactly to the order's quantity and whose
  sources are never ``PLANNED_ORDER``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal, localcontext
from enum import StrEnum
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from erp.manufacturing.mrp import PlannedOrder

NINE_DECIMALS = Decimal("1e-9")


class PegSource(StrEnum):
    """What a pegged quantity is for, and what its ``demand_id`` names."""

    DEMAND = "demand"  # a demand line: sales-order line, forecast, open work order's component
    PLANNED_ORDER = "planned_order"  # the component requirement of a parent's planned order (its id)
    SAFETY_STOCK = "safety_stock"  # rebuilding the safety stock of the item (its id)
    NEGATIVE_ON_HAND = "negative_on_hand"  # making good the item's negative on-hand (its id)
    LOT_SIZE_EXCESS = "lot_size_excess"  # more than needed, because of the item's lot size (its id)


# gc=False: a plan holds hundreds of thousands of these and they cannot form reference cycles
# (strings, Decimals, enums); untracked, they cost the cyclic collector nothing on every pass.
class Peg(msgspec.Struct, frozen=True, gc=False):
    demand_id: str  # the demand line, parent planned order or item named by ``source``
    quantity: Decimal  # in the unit of the pegged order's item; above zero
    source: PegSource = PegSource.DEMAND


def trace_to_end_demand(order: PlannedOrder, orders_by_id: Mapping[str, PlannedOrder]) -> tuple[Peg, ...]:
    """The order's quantity apportioned to end demand: demand lines, safety stock, negative
    on-hand and lot-size excess at any level above it, in the order they are first reached.

    A share of a parent's order is split across the parent's pegs in proportion to their
    quantities, rounded down to 9 decimals with the remainder on the last peg, so the result
    still sums exactly to ``order.quantity``.
    """
    totals: dict[tuple[PegSource, str], Decimal] = {}
    with localcontext() as context:
        context.prec = 60  # products of 9-decimal quantities stay exact before the final rounding
        for peg in order.pegging:
            _apportion(peg.source, peg.demand_id, peg.quantity, orders_by_id, totals)
    return tuple(Peg(demand_id, quantity, source) for (source, demand_id), quantity in totals.items())


def _apportion(source: PegSource, demand_id: str, quantity: Decimal, orders_by_id: Mapping[str, PlannedOrder],
               totals: dict[tuple[PegSource, str], Decimal]) -> None:
    if source is not PegSource.PLANNED_ORDER:
        key = (source, demand_id)
        totals[key] = totals.get(key, Decimal(0)) + quantity
        return
    parent = orders_by_id[demand_id]
    left = quantity
    last = len(parent.pegging) - 1
    for index, parent_peg in enumerate(parent.pegging):
        if index == last:
            share = left
        else:
            share = (quantity * parent_peg.quantity / parent.quantity).quantize(NINE_DECIMALS, rounding=ROUND_FLOOR)
            left -= share
        if share:
            _apportion(parent_peg.source, parent_peg.demand_id, share, orders_by_id, totals)
