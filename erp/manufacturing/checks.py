"""Checks shared by the manufacturing mutation handlers: amounts, names, state transitions.

Each refuses through ``ctx.reject`` with a stable code (``errors``), so the device shows the
problem at once and HQ gets a problem response. The rules are those of the planning data
(``lot_sizing.is_quantity``): a quantity, rate or time is a finite Decimal with at most 9 decimals.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Context, Decimal
from typing import Callable, NoReturn, TypeVar

from erp.manufacturing import errors
from erp.manufacturing.errors import ManufacturingError
from erp.manufacturing.lot_sizing import is_quantity
from sync.context import MutationContext
from sync.types import decimal_text

T = TypeVar("T")

NINE_DECIMALS = Decimal("1e-9")
# Products of two 9-decimal quantities have up to 18 decimals and 42 digits: exact in this
# context, where the default one (28 digits) would round before ``ceil_9`` could.
EXACT = Context(prec=80)


def check_amount(ctx: MutationContext, value: Decimal, what: str, *, positive: bool = False,
                 code: str = errors.INVALID_AMOUNT) -> None:
    """``value`` is a finite Decimal ≥ 0 (> 0 with ``positive``) with at most 9 decimals."""
    if not is_quantity(value) or value < 0 or (positive and value == 0):
        bound = "above 0" if positive else "0 or more"
        ctx.reject(code, f"{what} must be a number {bound} with at most 9 decimals", field=what, value=str(value))


def check_quantity(ctx: MutationContext, value: Decimal, what: str = "quantity", *, positive: bool = True) -> None:
    check_amount(ctx, value, what, positive=positive, code=errors.INVALID_QUANTITY)


def check_text(ctx: MutationContext, value: str, what: str) -> None:
    if not value.strip():
        ctx.reject(errors.BLANK_FIELD, f"{what} must not be blank", field=what)


def ceil_9(value: Decimal) -> Decimal:
    """Round up to 9 decimals, what every stored quantity holds: a requirement or a backflush is
    never rounded below what it needs (NUMERIC(30, 9) on PostgreSQL would round half-even)."""
    return Decimal(decimal_text(value.quantize(NINE_DECIMALS, rounding=ROUND_CEILING, context=EXACT)))


def rejecting(ctx: MutationContext, compute: Callable[[], T]) -> T:
    """Run a pure calculation; a ``ManufacturingError`` it raises becomes a rejection with its code."""
    try:
        return compute()
    except ManufacturingError as error:
        _reject(ctx, error)


def _reject(ctx: MutationContext, error: ManufacturingError) -> NoReturn:
    ctx.reject(error.code, error.message, **error.details)
