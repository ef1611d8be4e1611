"""The credit check of a sales order: pure functions, no I/O, the same on device and server.

A customer's **open order value** is what its confirmed orders not yet closed or cancelled are
worth: for each line, (ordered − returned) × unit price. Delivered goods still count until the
order is closed, because nothing here knows they were paid for (there are no receivables yet;
finance will close orders once invoiced and settled). Confirming an order is allowed when the
open order value plus the new order's value stays within the limit; a customer without a limit
(NULL) is never refused.

Invariants (tested with hypothesis):
- ``allowed`` ⇔ no limit, or open + order ≤ limit; ``excess`` is by how much it is exceeded.
- Starting within the limit, any sequence of confirmations the check allows keeps the open
  value within the limit: the check cannot be walked past by splitting an order.
- A larger order, or a larger open value, never turns a refusal into an acceptance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

import msgspec

ZERO = Decimal(0)
MAX_AMOUNT = Decimal(10) ** 15


class CreditDecision(msgspec.Struct, frozen=True):
    limit: Decimal | None  # None: the customer has no limit
    open_value: Decimal  # the customer's open orders before this one
    order_value: Decimal  # the order being confirmed
    exposure: Decimal  # open_value + order_value
    excess: Decimal  # exposure − limit when above it, else 0

    @property
    def allowed(self) -> bool:
        return self.excess == 0


def open_line_value(quantity: Decimal, returned_quantity: Decimal, unit_price: Decimal) -> Decimal:
    """What one line of an open order is worth: what was ordered and not sent back, at its price."""
    return max(quantity - returned_quantity, ZERO) * unit_price


def order_value(lines: Iterable[tuple[Decimal, Decimal, Decimal]]) -> Decimal:
    """Sum of ``open_line_value`` over (quantity, returned_quantity, unit_price) triples."""
    return sum((open_line_value(q, r, p) for q, r, p in lines), ZERO)


def check_credit(limit: Decimal | None, open_value: Decimal, new_order_value: Decimal) -> CreditDecision:
    """Whether an order worth ``new_order_value`` may be confirmed on top of ``open_value``."""
    exposure = open_value + new_order_value
    excess = ZERO if limit is None else max(exposure - limit, ZERO)
    return CreditDecision(limit, open_value, new_order_value, exposure, excess)


def amount_problem(amount: Decimal, what: str = "an amount") -> str | None:
    """None for an acceptable amount of money (finite, ≥ 0, below 10^15, to the fen), else why
    not; the reason names ``what`` and does not repeat the value."""
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int):
        return f"{what} is a finite amount"
    if amount < 0 or amount >= MAX_AMOUNT:
        return f"{what} is zero or more, and below 10^15"
    if exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        return f"{what} is counted to the fen (at most 2 decimals)"
    return None


def credit_limit_problem(limit: Decimal | None) -> str | None:
    """None for an acceptable credit limit (or none at all), else why not."""
    return None if limit is None else amount_problem(limit, "a credit limit")
