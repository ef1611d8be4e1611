"""Lot sizing: how a net requirement becomes the quantities of planned orders.

Rules:
- **lot-for-lot** orders exactly the net requirement, raised to ``minimum`` if below it, then
  rounded up to a whole ``multiple`` (both optional, so "minimum" and "multiple" alone are
  lot-for-lot with one modifier);
- **fixed quantity** orders lots of exactly ``quantity`` each, as many as cover the net
  requirement, on the same date — a kettle, a mould or a pallet is filled to its size, and a
  second batch is a second order, never one order of twice the size.

Invariants (for a net requirement n > 0; n ≤ 0 yields no lot):
- the lots sum to at least n, and drop a lot (or, lot-for-lot, a multiple) they would fall below n;
- fixed quantity: every lot equals ``quantity``;
- lot-for-lot: one lot, at least ``minimum``, a whole number of ``multiple`` when one is set.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

from erp.manufacturing.errors import InvalidLotSizing

ZERO = Decimal(0)
MAX_DECIMALS = 9  # quantities are stored with at most 9 decimal places


class LotRule(StrEnum):
    LOT_FOR_LOT = "lot_for_lot"
    FIXED_QUANTITY = "fixed_quantity"


def is_quantity(value: object) -> bool:
    """A finite Decimal with at most ``MAX_DECIMALS`` decimal places."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return False
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -MAX_DECIMALS


class LotSizing(msgspec.Struct, frozen=True, gc=False):  # no cycles possible: Decimals and an enum
    """An item's lot-sizing rule; build it with ``lot_for_lot()`` or ``fixed()``."""

    rule: LotRule = LotRule.LOT_FOR_LOT
    quantity: Decimal | None = None  # fixed quantity: the size of every lot; unused otherwise
    minimum: Decimal = ZERO  # lot-for-lot: the smallest order; 0 = no minimum
    multiple: Decimal = ZERO  # lot-for-lot: orders are whole multiples of it; 0 = any quantity

    def __post_init__(self) -> None:
        for name in ("minimum", "multiple"):
            value = getattr(self, name)
            if not is_quantity(value) or value < 0:
                raise InvalidLotSizing(f"lot-sizing {name} must be a quantity of 0 or more", **{name: str(value)})
        if self.rule is LotRule.FIXED_QUANTITY:
            if self.quantity is None or not is_quantity(self.quantity) or self.quantity <= 0:
                raise InvalidLotSizing("a fixed lot size needs a quantity above 0", quantity=str(self.quantity))
            if self.minimum or self.multiple:
                raise InvalidLotSizing("a fixed lot size takes no minimum or multiple: every lot is the fixed quantity")
        elif self.quantity is not None:
            raise InvalidLotSizing("only a fixed lot size has a quantity", quantity=str(self.quantity))

    @classmethod
    def lot_for_lot(cls, *, minimum: Decimal = ZERO, multiple: Decimal = ZERO) -> LotSizing:
        return cls(LotRule.LOT_FOR_LOT, None, minimum, multiple)

    @classmethod
    def fixed(cls, quantity: Decimal) -> LotSizing:
        return cls(LotRule.FIXED_QUANTITY, quantity)

    def lots(self, net: Decimal) -> list[Decimal]:
        """The quantities of the planned orders that cover ``net``, in order."""
        if net <= 0:
            return []
        if self.rule is LotRule.FIXED_QUANTITY:
            size = self.quantity
            assert size is not None  # checked in __post_init__
            return [size] * _whole_units_covering(net, size)
        lot = net if net >= self.minimum else self.minimum
        if self.multiple:
            lot = self.multiple * _whole_units_covering(lot, self.multiple)
        return [lot]


LOT_FOR_LOT = LotSizing()


def _whole_units_covering(quantity: Decimal, unit: Decimal) -> int:
    # divmod on Decimals is exact, where a rounded quotient could land on the wrong side of n.
    whole, remainder = divmod(quantity, unit)
    return int(whole) + (1 if remainder else 0)
