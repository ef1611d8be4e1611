"""Material requirements planning: a regenerative run, from typed inputs to planned orders.

``run_mrp(MrpInput) -> MrpResult`` is a pure function: no I/O, no clock (the run date is an
input), no database. A service reads items, the effective BOM version's lines, stock, open
purchase and work orders and demand, calls it, and stores the planned orders it returns.

What it does:

- Demand is sales-order lines, forecasts (taken as given: consuming forecast by sales orders
  happens before the run), open work orders' unissued components, and each item's safety stock;
  a negative on-hand is a requirement on the run date.
- Demand is netted against on-hand stock and open purchase and work orders, item by item in
  low-level-code order, so an item is netted once, after every parent that needs it.
- Shortages become planned orders, sized by the item's lot-sizing rule: purchase orders for
  bought items, work orders for made ones. A work order's components are needed on its release
  date: quantity × quantity per × (1 + scrap factor), rounded up to 9 decimals.
- A phantom is exploded through: its on-hand and receipts are used first, the rest of its
  requirement passes straight to its components, and it never gets a planned order.
- Release date = need date minus the lead time in working days of the item's calendar (its work
  centre's, else the plant's). A release date before the run date is kept and flagged
  ``past_due``, never dropped.
- Every planned order is pegged to what caused it (see ``pegging``).

Algorithm, per item, dates in daily buckets (requirements and receipts due before the run date
fall in the run date's bucket, and nothing is planned before it):

1. sort the item's requirements by (bucket, original due date, source, id);
2. projected available starts at on-hand; walking the buckets in order, add the receipts due,
   then let each requirement take stock first-in-first-out, but only stock above safety stock;
3. what stays uncovered, plus any gap below safety stock, is the net requirement of the bucket:
   lot-size it into planned orders due that day; a lot's surplus joins the stock, and a later
   requirement that takes it is added to that lot's pegging;
4. explode each new work order into its components' requirement lists (or pass a phantom's
   shortage down), to be netted when their low-level code comes.

Invariants (the property tests check them on random plans):
- after planned orders, projected available of every item is at least its safety stock at the
  end of every bucket from the run date on;
- every planned order's pegging sums exactly to its quantity;
- every planned order keeps its item's lot-sizing rule; lot-for-lot plans exactly the net
  requirement when it has no minimum or multiple;
- release date = need date minus lead time in working days; ``past_due`` iff it is before the
  run date;
- the result does not depend on the order of the inputs; quantities are Decimal, never float.
"""

from __future__ import annotations

from collections import deque
from datetime import date
from decimal import ROUND_CEILING, Decimal, localcontext
from enum import StrEnum

import msgspec

from erp.manufacturing.lot_sizing import ZERO, LotSizing
from erp.manufacturing.pegging import NINE_DECIMALS, Peg, PegSource, trace_to_end_demand
from erp.manufacturing.planning_data import (
    NEGATIVE_ON_HAND, PARENT_ORDER, REQUIREMENT_SOURCES, BomLine, Demand, DemandKind, Item, MrpInput, OnHand,
    PlanningData, Procurement, ReceiptKind, ScheduledReceipt, WorkCentre,
)

from erp.manufacturing.working_calendar import WorkingCalendar

__all__ = [
    "BomLine", "Demand", "DemandKind", "ExceptionMessage", "Item", "LotSizing", "MrpInput", "MrpResult", "OnHand",
    "Peg", "PegSource", "PlannedOrder", "PlannedOrderKind", "Procurement", "ReceiptKind", "ScheduledReceipt",
    "WorkCentre", "WorkingCalendar", "run_mrp", "trace_to_end_demand",
]

# -- outputs ---------------------------------------------------------------------------------


class PlannedOrderKind(StrEnum):
    PURCHASE_ORDER = "purchase_order"
    WORK_ORDER = "work_order"


class ExceptionMessage(StrEnum):
    PAST_DUE = "past_due"  # the release date is before the run date: late already when planned


class PlannedOrder(msgspec.Struct, frozen=True, gc=False):  # no cycles possible: see Peg
    order_id: str  # "<item id>@<need date>#<n>": stable for the same inputs, replaced by the next run
    item_id: str
    kind: PlannedOrderKind
    quantity: Decimal
    need_date: date  # when the quantity must be in stock
    release_date: date  # when the purchase order must be placed or the work order started
    pegging: tuple[Peg, ...]  # sums to ``quantity``
    exceptions: tuple[ExceptionMessage, ...] = ()


class MrpResult(msgspec.Struct, frozen=True):
    run_date: date
    planned_orders: tuple[PlannedOrder, ...]  # by low-level code, item id, need date
    low_level_codes: dict[str, int]

    def orders_by_id(self) -> dict[str, PlannedOrder]:
        return {order.order_id: order for order in self.planned_orders}


# -- the run ---------------------------------------------------------------------------------

_KIND = {Procurement.BUY: PlannedOrderKind.PURCHASE_ORDER, Procurement.MAKE: PlannedOrderKind.WORK_ORDER}
_PAST_DUE = (ExceptionMessage.PAST_DUE,)


class _Lot:
    """A planned order being netted: its pegging grows as later requirements take its surplus."""

    __slots__ = ("order_id", "quantity", "need", "release", "pegs", "safety", "excess")

    def __init__(self, order_id: str, quantity: Decimal, need: int, release: int) -> None:
        self.order_id = order_id
        self.quantity = quantity
        self.need = need
        self.release = release
        self.pegs: dict[tuple[int, str], Decimal] = {}
        self.safety = ZERO  # surplus holding safety stock
        self.excess = ZERO  # surplus beyond need and safety stock

    def give(self, source: int, ref: str, quantity: Decimal) -> None:
        """A later requirement takes ``quantity`` of the surplus: excess first, then safety stock."""
        if quantity <= self.excess:
            self.excess -= quantity
        else:
            self.safety -= quantity - self.excess
            self.excess = ZERO
        key = (source, ref)
        self.pegs[key] = self.pegs.get(key, ZERO) + quantity


def run_mrp(data: MrpInput) -> MrpResult:
    """Plan every item; refuse the inputs with a ``ManufacturingError`` if they cannot be planned."""
    with localcontext() as context:
        context.prec = 60  # quantity × quantity per × (1 + scrap) is exact before rounding to 9 decimals
        plan = PlanningData.index(data)
        orders: list[PlannedOrder] = []
        for item in plan.items_in_order:
            orders.extend(_net_item(plan, item))
        return MrpResult(data.run_date, tuple(orders), plan.codes)


def _net_item(plan: PlanningData, item: Item) -> list[PlannedOrder]:
    """Net one item over its buckets; explode or pass down what it plans. See the module docstring."""
    item_id = item.item_id
    run = plan.run_ordinal
    requirements = plan.requirements.pop(item_id, [])
    receipts = plan.receipts.get(item_id, {})
    on_hand = plan.on_hand.get(item_id, ZERO)
    safety_stock = item.safety_stock
    if not requirements and not receipts and on_hand >= safety_stock:
        return []
    if on_hand < 0:
        requirements.append((run, 0, NEGATIVE_ON_HAND, item_id, -on_hand))
        on_hand = ZERO
    requirements.sort()
    buckets = sorted({requirement[0] for requirement in requirements}.union(receipts, (run,)))
    calendar, lead_time = plan.calendars[item_id], item.lead_time_days
    components = plan.components.get(item_id, ())
    phantom = item.procurement is Procurement.PHANTOM
    pending = plan.requirements

    stock: deque[list] = deque()  # [quantity left, the _Lot it came from or None], first in first out
    total = on_hand
    if on_hand > 0:
        stock.append([on_hand, None])
    lots: list[_Lot] = []
    position, count = 0, len(requirements)
    for bucket in buckets:
        received = receipts.get(bucket)
        if received:
            stock.append([received, None])
            total += received
        short: list[tuple[int, str, Decimal]] = []
        short_total = ZERO
        while position < count and requirements[position][0] == bucket:
            _, _, source, ref, quantity = requirements[position]
            position += 1
            free = total - safety_stock
            if free > 0:
                taken = quantity if quantity <= free else free
                total -= taken
                _take(stock, taken, source, ref)
                quantity -= taken
                if not quantity:
                    continue
            short.append((source, ref, quantity))
            short_total += quantity
        below_safety = safety_stock - total if total < safety_stock else ZERO
        if not short_total and not below_safety:
            continue
        release = calendar.subtract_working_days_ordinal(bucket, lead_time)
        needed_from = release if release > run else run
        if phantom:  # safety stock is zero: the whole shortage passes down with its pegs
            for component_id, factor in components:
                append = pending.setdefault(component_id, []).append
                for source, ref, quantity in short:
                    append((needed_from, release, source, ref, _round_up(quantity * factor)))
            continue
        for lot in _plan_bucket(item, bucket, release, short, short_total, below_safety):
            lots.append(lot)
            surplus = lot.safety + lot.excess
            if surplus:
                stock.append([surplus, lot])
                total += surplus
            for component_id, factor in components:
                pending.setdefault(component_id, []).append(
                    (needed_from, release, PARENT_ORDER, lot.order_id, _round_up(lot.quantity * factor)))
    if phantom:
        return []
    kind = _KIND[item.procurement]
    return [_finish(lot, item_id, kind, run) for lot in lots]


def _take(stock: deque[list], quantity: Decimal, source: int, ref: str) -> None:
    """Take ``quantity`` from the oldest stock; a planned lot's surplus is pegged to the taker."""
    while quantity:
        entry = stock[0]
        available, lot = entry
        if available <= quantity:
            stock.popleft()
            used = available
        else:
            entry[0] = available - quantity
            used = quantity
        quantity -= used
        if lot is not None:
            lot.give(source, ref, used)


def _plan_bucket(item: Item, bucket: int, release: int, short: list[tuple[int, str, Decimal]],
                 short_total: Decimal, below_safety: Decimal) -> list[_Lot]:
    """The lots that cover one bucket's shortages, in order, then its gap below safety stock.

    Shortages are pegged to the lots first in first out; what is left of each lot is its
    surplus: safety stock first, lot-size excess after.
    """
    need_date = date.fromordinal(bucket).isoformat()
    lots = []
    index, left = 0, (short[0][2] if short else ZERO)
    safety_left = below_safety
    for number, size in enumerate(item.lot_sizing.lots(short_total + below_safety), start=1):
        lot = _Lot(f"{item.item_id}@{need_date}#{number}", size, bucket, release)
        room = size
        while room and index < len(short):
            source, ref, _ = short[index]
            given = left if left <= room else room
            key = (source, ref)
            lot.pegs[key] = lot.pegs.get(key, ZERO) + given
            room -= given
            left -= given
            if not left:
                index += 1
                left = short[index][2] if index < len(short) else ZERO
        lot.safety = safety_left if safety_left <= room else room
        safety_left -= lot.safety
        lot.excess = room - lot.safety
        lots.append(lot)
    return lots


def _finish(lot: _Lot, item_id: str, kind: PlannedOrderKind, run: int) -> PlannedOrder:
    pegging = [Peg(ref, quantity, REQUIREMENT_SOURCES[source]) for (source, ref), quantity in lot.pegs.items()]
    if lot.safety:
        pegging.append(Peg(item_id, lot.safety, PegSource.SAFETY_STOCK))
    if lot.excess:
        pegging.append(Peg(item_id, lot.excess, PegSource.LOT_SIZE_EXCESS))
    return PlannedOrder(lot.order_id, item_id, kind, lot.quantity, date.fromordinal(lot.need),
                        date.fromordinal(lot.release), tuple(pegging), _PAST_DUE if lot.release < run else ())


def _round_up(quantity: Decimal) -> Decimal:
    """Up to 9 decimals, so rounding never plans too little; unchanged when already there."""
    rounded = quantity.quantize(NINE_DECIMALS, rounding=ROUND_CEILING)
    return quantity if rounded == quantity else rounded
