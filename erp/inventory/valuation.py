"""Stock valuation calculators: moving average, FIFO cost layers, month-end weighted average.

Pure functions, no I/O: typed positions and moves in, typed results out. The server keeps their
results incrementally (``stock_valuation``); the report and the rebuild use the same functions,
so there is one definition of every rule below.

A *position* is what one item holds at one site: quantity, value, the unit cost in force and,
for FIFO, the cost layers. A *move* is signed: positive brings goods in, negative takes them out.

Rules (the same for all three methods unless said otherwise):

- **Rounding.** Every money amount is rounded to 2 places (``MONEY``, half away from zero) at
  the moment it is booked: the value of an incoming move, the cost of an outgoing move. A
  position's value is the exact sum of booked amounts, so value is conserved to the cent:
  ``opening value + incoming value = outgoing cost + closing value + variance``. Unit costs are
  shown with 4 places (``RATE``); costs of outgoing moves are computed from the exact
  value / quantity ratio, never from the rounded rate, so rounding never drifts. A partial
  take from a positive value is at most that value, so a layer or a position never turns
  negative by rounding.
- **Incoming without a unit cost** (a positive adjustment, a count gain, an issue's reversal,
  a receipt nobody priced) comes in at the unit cost in force: the current average, or the last
  known cost when stock is not positive, or 0 if the item never had a cost. Month-end weighted
  average counts such a move as a negative outgoing, so it comes in at the month's rate.
- **Outgoing with a unit cost** (the reversal of a priced receipt; ``stock_move.reverse``
  copies the receipt's unit cost) takes out that cost, so a receipt and its reversal cancel.
  Moving average: at that cost as long as stock left behind keeps a positive value, else at the
  average. FIFO: from the reversed receipt's own layer as far as it remains, then oldest first.
  Month-end weighted: a negative incoming of the month (quantity and value).
- **Negative stock** is allowed (goods moved are recorded, see ``on_hand``). The part of an
  outgoing move beyond what is on hand is costed at the last known unit cost, and the deficit
  carries value ``quantity x last cost`` (negative). The next incoming settles the deficit at its
  own cost; the difference between the deficit's booked value and its settled value is the
  ``variance`` (positive: the goods taken out while short really cost more than was booked).
  FIFO holds no layers while the position is not positive.
- **Month-end weighted average (月末一次加权).** A month's rate is
  ``(opening value + incoming value) / (opening quantity + incoming quantity)``; its outgoing
  quantity is costed at that rate and closing stock valued at it, so the order of moves inside
  a month does not matter. An opening deficit is settled at the month's incoming rate (variance
  as above). With no stock to average, the rate is the month's incoming rate, else the opening
  rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import msgspec

MONEY = Decimal("0.01")
RATE = Decimal("0.0001")
ZERO = Decimal(0)


def money(amount: Decimal) -> Decimal:
    """A money amount rounded to the cent, half away from zero (symmetric for reversals)."""
    return amount.quantize(MONEY, rounding=ROUND_HALF_UP)


def rate(amount: Decimal) -> Decimal:
    """A unit cost rounded to 4 places."""
    return amount.quantize(RATE, rounding=ROUND_HALF_UP)


class Move(msgspec.Struct, frozen=True):
    quantity: Decimal  # signed: + in, - out
    unit_cost: Decimal | None = None  # known cost per unit (a receipt's price, or its reversal's)
    move_id: str = ""
    reverses_id: str | None = None  # the receipt this move reverses, for FIFO's own-layer rule


class Layer(msgspec.Struct, frozen=True):
    """A FIFO cost layer: what remains of one incoming move."""

    source_id: str  # the incoming move that created it
    quantity: Decimal  # remaining, always > 0
    value: Decimal  # remaining value, booked to the cent, >= 0 when the cost is >= 0
    unit_cost: Decimal  # the incoming move's cost per unit


class Position(msgspec.Struct, frozen=True):
    quantity: Decimal = ZERO
    value: Decimal = ZERO
    unit_cost: Decimal = ZERO  # the average when quantity > 0, else the last known cost (4 places)
    layers: tuple[Layer, ...] = ()  # FIFO only, oldest first; their sums are (quantity, value)


class Valued(msgspec.Struct, frozen=True):
    """What one move did to the value: + value brought in, - cost taken out."""

    move_id: str
    quantity: Decimal
    value: Decimal
    variance: Decimal = ZERO  # a deficit settled at a cost other than the one it was booked at


class Result(msgspec.Struct, frozen=True):
    valued: list[Valued]
    closing: Position

    @property
    def variance(self) -> Decimal:
        return sum((v.variance for v in self.valued), ZERO)


def _average(quantity: Decimal, value: Decimal, fallback: Decimal) -> Decimal:
    return rate(value / quantity) if quantity > 0 else fallback


def _settle_deficit(position: Position, quantity: Decimal, cost: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """An incoming move into a deficit: (new quantity, value left in stock, variance)."""
    brought = money(quantity * cost)
    after = position.quantity + quantity
    kept = money(after * cost)
    return after, kept, position.value + brought - kept


def apply_moving_average(position: Position, move: Move) -> tuple[Position, Valued]:
    """Value one move by moving average; returns the new position and the move's value."""
    q, v, c = position.quantity, position.value, position.unit_cost
    amount = move.quantity
    if amount == 0:
        return position, Valued(move.move_id, amount, ZERO)
    if amount > 0:
        cost = move.unit_cost if move.unit_cost is not None else c
        brought = money(amount * cost)
        if q >= 0:
            after, value, variance = q + amount, v + brought, ZERO
        else:
            after, value, variance = _settle_deficit(position, amount, cost)
        unit = _average(after, value, rate(cost))
        return Position(after, value, unit), Valued(move.move_id, amount, brought, variance)
    taken = -amount
    own = move.unit_cost
    if own is not None and q > taken and v - money(taken * own) > 0:
        cost = money(taken * own)
    elif q >= taken:
        cost = v if q == taken else money(taken * v / q)
    elif q > 0:
        cost = v + money((taken - q) * c)  # all that is on hand, the rest at the last cost
    else:
        cost = money(taken * c)
    after, value = q - taken, v - cost
    return Position(after, value, _average(after, value, c)), Valued(move.move_id, amount, -cost)


def _take(layer: Layer, wanted: Decimal) -> tuple[Layer | None, Decimal, Decimal]:
    """Take up to ``wanted`` from a layer: (what is left of it, quantity taken, cost taken)."""
    if wanted >= layer.quantity:
        return None, layer.quantity, layer.value
    cost = money(wanted * layer.value / layer.quantity)
    return Layer(layer.source_id, layer.quantity - wanted, layer.value - cost, layer.unit_cost), wanted, cost


def apply_fifo(position: Position, move: Move) -> tuple[Position, Valued]:
    """Value one move by FIFO cost layers; returns the new position and the move's value."""
    q, v, c = position.quantity, position.value, position.unit_cost
    amount = move.quantity
    if amount == 0:
        return position, Valued(move.move_id, amount, ZERO)
    if amount > 0:
        cost = move.unit_cost if move.unit_cost is not None else c
        brought = money(amount * cost)
        if q >= 0:
            layers = (*position.layers, Layer(move.move_id, amount, brought, cost))
            after, value, variance = q + amount, v + brought, ZERO
        else:
            after, value, variance = _settle_deficit(position, amount, cost)
            layers = (Layer(move.move_id, after, value, cost),) if after > 0 else ()
        unit = _average(after, value, rate(cost))
        return Position(after, value, unit, layers), Valued(move.move_id, amount, brought, variance)
    remaining = -amount
    layers = list(position.layers)
    cost = ZERO
    # A receipt's reversal takes its own layer first, so the pair cancels while it is unused.
    order = sorted(range(len(layers)), key=lambda i: layers[i].source_id != move.reverses_id) \
        if move.reverses_id is not None else range(len(layers))
    kept: dict[int, Layer | None] = {}
    for index in order:
        if remaining <= 0:
            break
        left, quantity, taken = _take(layers[index], remaining)
        kept[index] = left
        remaining -= quantity
        cost += taken
    layers = [kept.get(i, layer) for i, layer in enumerate(layers)]
    remaining_layers = tuple(layer for layer in layers if layer is not None)
    if remaining > 0:
        cost += money(remaining * c)  # beyond what is on hand: at the last known cost
    after, value = q + amount, v - cost
    return (Position(after, value, _average(after, value, c), remaining_layers),
            Valued(move.move_id, amount, -cost))


def _run(apply, moves: Iterable[Move], opening: Position) -> Result:
    position, valued = opening, []
    for move in moves:
        position, one = apply(position, move)
        valued.append(one)
    return Result(valued, position)


def moving_average(moves: Iterable[Move], opening: Position = Position()) -> Result:
    return _run(apply_moving_average, moves, opening)


def fifo(moves: Iterable[Move], opening: Position = Position()) -> Result:
    return _run(apply_fifo, moves, opening)


# -- month-end weighted average ----------------------------------------------------------------


class MonthTotals(msgspec.Struct, frozen=True):
    """What one month brought in and took out; the order of its moves does not matter."""

    incoming_quantity: Decimal = ZERO  # moves with a unit cost (receipts, net of their reversals)
    incoming_value: Decimal = ZERO
    outgoing_quantity: Decimal = ZERO  # every other move, net: issues minus costless returns


def add_to_month(totals: MonthTotals, move: Move) -> MonthTotals:
    if move.unit_cost is not None:
        return MonthTotals(totals.incoming_quantity + move.quantity,
                           totals.incoming_value + money(move.quantity * move.unit_cost),
                           totals.outgoing_quantity)
    return MonthTotals(totals.incoming_quantity, totals.incoming_value, totals.outgoing_quantity - move.quantity)


def month_totals(moves: Iterable[Move]) -> MonthTotals:
    totals = MonthTotals()
    for move in moves:
        totals = add_to_month(totals, move)
    return totals


class MonthResult(msgspec.Struct, frozen=True):
    opening: Position
    totals: MonthTotals
    rate: Decimal  # the month's weighted rate, exact (show with ``rate()``)
    outgoing_cost: Decimal
    closing: Position
    variance: Decimal


def close_month(opening: Position, totals: MonthTotals) -> MonthResult:
    """The month's rate, the cost of its outgoing quantity and its closing position."""
    in_q, in_v = totals.incoming_quantity, totals.incoming_value
    start_value, variance = opening.value, ZERO
    if opening.quantity < 0 and in_q > 0:
        month_rate = in_v / in_q
        start_value = money(opening.quantity * month_rate)
        variance = opening.value - start_value
    else:
        quantity, value = opening.quantity + in_q, opening.value + in_v
        if quantity > 0 and value >= 0:
            month_rate = value / quantity
        elif in_q > 0:
            month_rate = in_v / in_q
        else:
            month_rate = opening.unit_cost
    closing_quantity = opening.quantity + in_q - totals.outgoing_quantity
    closing_value = money(closing_quantity * month_rate)
    outgoing_cost = start_value + in_v - closing_value
    closing = Position(closing_quantity, closing_value, rate(month_rate))
    return MonthResult(opening, totals, month_rate, outgoing_cost, closing, variance)


def monthly_weighted(months: Iterable[Iterable[Move]], opening: Position = Position()) -> list[MonthResult]:
    """Close consecutive months, each month's closing the next one's opening."""
    results = []
    for moves in months:
        result = close_month(opening, month_totals(moves))
        results.append(result)
        opening = result.closing
    return results
