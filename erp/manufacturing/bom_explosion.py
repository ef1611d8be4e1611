"""BOM explosion for a work order: a BOM's lines, with phantoms exploded through, become the
order's material requirements per unit of the product. Pure: typed inputs, typed result, no I/O.

A phantom line (a kit or transient sub-assembly that is never stocked) is replaced by the lines
of the phantom item's effective BOM, multiplied by the phantom line's quantity per and scrap
allowance; phantoms inside phantoms are exploded the same way. Scrap compounds level by level,
as in the MRP run (``planning_data``): a component needs ``quantity_per × (1 + scrap_factor)``
of itself per unit of its parent.

Invariants:
- no requirement is for a phantom line's item (it is always exploded through); a phantom
  without an effective BOM is refused (``manufacturing.phantom_without_bom``), a loop through
  phantoms with ``BomCycle`` naming it;
- requirements are merged per (item, backflush) and sorted by them, so the order of the lines
  cannot change the result; quantities are exact (no rounding here: the work order rounds up
  to 9 decimals when it stores them, ``checks.ceil_9``);
- ``gross_quantity_per ≥ quantity_per``, equal where every scrap factor on the path is 0;
- exploding a phantom line gives exactly what inlining the phantom's lines would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import msgspec

from erp.manufacturing import errors
from erp.manufacturing.checks import EXACT
from erp.manufacturing.errors import BomCycle, InvalidPlanningData

ONE = Decimal(1)
ZERO = Decimal(0)


class ExplosionLine(msgspec.Struct, frozen=True):
    """A BOM line as the explosion reads it."""

    component_id: str
    quantity_per: Decimal  # per one unit of the parent; above zero
    scrap_factor: Decimal = ZERO  # 0.05: 5 % more is issued than ends up in the parent
    phantom: bool = False  # explode through the component's effective BOM instead of issuing it
    backflush: bool = False  # issued automatically when the parent is reported complete


class Requirement(msgspec.Struct, frozen=True):
    """What one unit of the product needs of one item, issued one way (backflushed or not)."""

    item_id: str
    backflush: bool
    quantity_per: Decimal  # without scrap allowances
    gross_quantity_per: Decimal  # with the scrap allowances of every level on the way


def explode(item_id: str, lines: Sequence[ExplosionLine],
            phantom_boms: Mapping[str, Sequence[ExplosionLine]]) -> list[Requirement]:
    """The requirements per unit of ``item_id`` built from ``lines``.

    ``phantom_boms`` maps each phantom item to the lines of its effective BOM (only phantom
    lines' components are looked up there).
    """
    totals: dict[tuple[str, bool], tuple[Decimal, Decimal]] = {}

    def walk(lines: Sequence[ExplosionLine], net: Decimal, gross: Decimal, path: list[str]) -> None:
        for line in lines:
            line_net = EXACT.multiply(net, line.quantity_per)
            line_gross = EXACT.multiply(gross, EXACT.multiply(line.quantity_per, EXACT.add(ONE, line.scrap_factor)))
            if not line.phantom:
                key = (line.component_id, line.backflush)
                before_net, before_gross = totals.get(key, (ZERO, ZERO))
                totals[key] = (EXACT.add(before_net, line_net), EXACT.add(before_gross, line_gross))
                continue
            if line.component_id in path:
                loop = path[path.index(line.component_id):] + [line.component_id]
                raise BomCycle(f"BOM cycle through phantoms: {' → '.join(loop)}", cycle=loop)
            below = phantom_boms.get(line.component_id)
            if not below:
                raise InvalidPlanningData("a phantom line's item has no released BOM to explode through",
                                          code=errors.PHANTOM_WITHOUT_BOM, item_id=line.component_id)
            walk(below, line_net, line_gross, [*path, line.component_id])

    walk(lines, ONE, ONE, [item_id])
    return [Requirement(item, backflush, net, gross) for (item, backflush), (net, gross) in sorted(totals.items())]
