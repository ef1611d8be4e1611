"""Actual cost of a work order: material, labour and overhead. Pure: typed inputs, no I/O.

- **Material**: per item, the net quantity the order consumed (issues + top-ups + backflush −
  returns: ``wo_materials.issued_quantity``) × the item's standard cost (``standard_cost.py``).
  An item without a standard cost is listed in ``uncosted_items`` and adds nothing, so a
  missing cost shows instead of silently making the order cheaper.
- **Labour**: per operation, the worked hours reported from the shop floor
  (``operation_report.py``) × its work centre's labour rate.
- **Overhead**: the same hours × the work centre's overhead rate.

Invariants (tested with hypothesis in tests/unit/manufacturing/test_costing.py):
- amounts are exact: no rounding anywhere but ``unit_cost`` (half-even, 9 decimals);
- ``total = material + labour + overhead``; each is the sum of its lines; a line's amount is
  quantity × rate; the order of the inputs does not change the result;
- ``unit_cost`` is ``total / completed_quantity``, None while nothing is completed.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from erp.manufacturing.checks import EXACT, NINE_DECIMALS

ZERO = Decimal(0)


class MaterialUse(msgspec.Struct, frozen=True):
    item_id: str
    quantity: Decimal  # net consumed; negative if more came back than went out
    unit_cost: Decimal | None  # standard cost per unit; None: the item has none


class OperationTime(msgspec.Struct, frozen=True):
    operation_seq: int
    work_centre_id: str
    hours: Decimal  # worked hours reported
    labour_rate: Decimal  # yuan per hour
    overhead_rate: Decimal  # yuan per hour


class MaterialCost(msgspec.Struct, frozen=True):
    item_id: str
    quantity: Decimal
    unit_cost: Decimal | None
    amount: Decimal


class OperationCost(msgspec.Struct, frozen=True):
    operation_seq: int
    work_centre_id: str
    hours: Decimal
    labour: Decimal
    overhead: Decimal


class WorkOrderCost(msgspec.Struct, frozen=True):
    material: Decimal
    labour: Decimal
    overhead: Decimal
    total: Decimal
    completed_quantity: Decimal
    unit_cost: Decimal | None  # total / completed quantity; None while nothing is completed
    uncosted_items: list[str]  # items consumed that have no standard cost (valued at 0 above)
    materials: list[MaterialCost]
    operations: list[OperationCost]


def _sum(values: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for value in values:
        total = EXACT.add(total, value)
    return total


def work_order_cost(materials: Iterable[MaterialUse], operations: Iterable[OperationTime],
                    completed_quantity: Decimal) -> WorkOrderCost:
    """The order's actual cost from what it consumed and the hours worked on it."""
    # An item may be on two requirement lines (backflushed and not): one line per item and cost.
    merged: dict[tuple[str, Decimal | None], Decimal] = {}
    for use in materials:
        key = (use.item_id, use.unit_cost)
        merged[key] = EXACT.add(merged.get(key, ZERO), use.quantity)
    material_lines = [
        MaterialCost(item_id, quantity, unit_cost, EXACT.multiply(quantity, unit_cost) if unit_cost is not None else ZERO)
        for (item_id, unit_cost), quantity in sorted(merged.items(), key=lambda entry: (
            entry[0][0], entry[0][1] is None, entry[0][1] or ZERO))
    ]
    operation_lines = [
        OperationCost(op.operation_seq, op.work_centre_id, op.hours, EXACT.multiply(op.hours, op.labour_rate),
                      EXACT.multiply(op.hours, op.overhead_rate))
        for op in sorted(operations, key=lambda op: (op.operation_seq, op.work_centre_id))
    ]
    material = _sum(line.amount for line in material_lines)
    labour = _sum(line.labour for line in operation_lines)
    overhead = _sum(line.overhead for line in operation_lines)
    total = _sum((material, labour, overhead))
    unit_cost = None
    if completed_quantity > 0:
        unit_cost = EXACT.divide(total, completed_quantity).quantize(NINE_DECIMALS, rounding=ROUND_HALF_EVEN,
                                                                     context=EXACT)
    return WorkOrderCost(
        material=material, labour=labour, overhead=overhead, total=total, completed_quantity=completed_quantity,
        unit_cost=unit_cost,
        uncosted_items=sorted({line.item_id for line in material_lines if line.unit_cost is None and line.quantity != 0}),
        materials=material_lines, operations=operation_lines,
    )
