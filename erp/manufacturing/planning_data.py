"""The inputs of an MRP run: typed structs, and their validation and indexing for the run.

The structs are what a service fills from the database: items with their planning parameters,
the lines of each item's effective BOM version, on-hand stock, open purchase and work orders,
demand lines, and the working calendars of the plant and its work centres.

``PlanningData.index`` checks them all before anything is planned and raises a
``ManufacturingError`` with a stable code on the first problem, naming the ids involved.

Invariants of an indexed run:
- every id referenced (BOM line, demand, stock, receipt, work centre) is a known item or work
  centre; item and demand ids are unique;
- quantities are finite Decimals with at most 9 decimals; demand, receipt, quantity-per are
  above zero, safety stock and scrap factor at least zero; lead times are whole days ≥ 0;
- a phantom has BOM lines, no safety stock and no lot-sizing rule of its own;
- the BOM has no cycle, and items are planned in (low-level code, item id) order;
- everything is sorted or summed by value, so the order of the inputs cannot change the plan.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

import msgspec

from erp.manufacturing import errors
from erp.manufacturing.errors import InvalidPlanningData
from erp.manufacturing.lot_sizing import LOT_FOR_LOT, ZERO, LotSizing, is_quantity
from erp.manufacturing.low_level_codes import low_level_codes
from erp.manufacturing.pegging import PegSource
from erp.manufacturing.working_calendar import WorkingCalendar


class Procurement(StrEnum):
    BUY = "buy"
    MAKE = "make"
    PHANTOM = "phantom"  # a kit or transient sub-assembly: exploded through, never ordered


class DemandKind(StrEnum):
    SALES_ORDER = "sales_order"
    FORECAST = "forecast"
    WORK_ORDER_COMPONENT = "work_order_component"  # an open work order's component not yet issued


class ReceiptKind(StrEnum):
    PURCHASE_ORDER = "purchase_order"
    WORK_ORDER = "work_order"


# The input structs are gc=False: they hold only strings, numbers, dates, enums and other
# such structs, so they cannot be part of a reference cycle, and tens of thousands of demand
# lines would otherwise be traversed by every pass of the cyclic collector during a run.
class Item(msgspec.Struct, frozen=True, gc=False):
    item_id: str
    procurement: Procurement
    lead_time_days: int = 0  # working days from release to need date
    safety_stock: Decimal = ZERO  # phantoms hold none
    lot_sizing: LotSizing = LOT_FOR_LOT  # phantoms are never lot-sized
    work_centre_id: str | None = None  # whose calendar offsets the lead time; None = the plant's


class WorkCentre(msgspec.Struct, frozen=True, gc=False):
    work_centre_id: str
    calendar: WorkingCalendar


class BomLine(msgspec.Struct, frozen=True, gc=False):
    """A line of the parent's effective BOM version."""

    parent_id: str
    component_id: str
    quantity_per: Decimal  # per one unit of the parent; above zero
    scrap_factor: Decimal = ZERO  # 0.05 = 5 % more is issued than ends up in the parent


class OnHand(msgspec.Struct, frozen=True, gc=False):
    item_id: str
    quantity: Decimal  # may be negative (stock issued before it was received): it is made good first


class ScheduledReceipt(msgspec.Struct, frozen=True, gc=False):
    """An open purchase or work order: its open quantity, expected on ``due_date``."""

    receipt_id: str
    item_id: str
    kind: ReceiptKind
    quantity: Decimal  # above zero
    due_date: date


class Demand(msgspec.Struct, frozen=True, gc=False):
    demand_id: str  # unique across the run's demand: the pegging names it
    item_id: str
    kind: DemandKind
    quantity: Decimal  # above zero
    due_date: date


class MrpInput(msgspec.Struct, frozen=True):
    run_date: date  # today for the plan: nothing is planned before it
    plant_calendar: WorkingCalendar  # offsets lead times of items without a work centre
    items: tuple[Item, ...]
    bom_lines: tuple[BomLine, ...] = ()
    demands: tuple[Demand, ...] = ()
    on_hand: tuple[OnHand, ...] = ()
    scheduled_receipts: tuple[ScheduledReceipt, ...] = ()
    work_centres: tuple[WorkCentre, ...] = ()


# -- indexed for the run ---------------------------------------------------------------------

# A requirement while planning: (bucket, due, source, ref, quantity). Bucket and due are date
# ordinals; source is an index into REQUIREMENT_SOURCES, whose order also ranks requirements
# of the same bucket and due date; ref is the id the requirement will be pegged to.
Requirement = tuple[int, int, int, str, Decimal]
NEGATIVE_ON_HAND, DEMAND, PARENT_ORDER = 0, 1, 2
REQUIREMENT_SOURCES = (PegSource.NEGATIVE_ON_HAND, PegSource.DEMAND, PegSource.PLANNED_ORDER)


class PlanningData:
    """An ``MrpInput`` checked and indexed by item; ``requirements`` grows during the run."""

    __slots__ = ("run_ordinal", "codes", "items_in_order", "calendars", "components",
                 "requirements", "receipts", "on_hand")

    def __init__(self) -> None:
        self.run_ordinal = 0
        self.codes: dict[str, int] = {}
        self.items_in_order: list[Item] = []
        self.calendars: dict[str, WorkingCalendar] = {}  # item id -> calendar of its lead time
        self.components: dict[str, list[tuple[str, Decimal]]] = {}  # parent -> (component, qty × (1 + scrap))
        self.requirements: dict[str, list[Requirement]] = {}  # item id -> requirements not yet netted
        self.receipts: dict[str, dict[int, Decimal]] = {}  # item id -> bucket -> quantity due
        self.on_hand: dict[str, Decimal] = {}

    @classmethod
    def index(cls, data: MrpInput) -> PlanningData:
        plan = cls()
        run = plan.run_ordinal = data.run_date.toordinal()
        items = _items_by_id(data.items)
        work_centres: dict[str, WorkingCalendar] = {}
        for centre in data.work_centres:
            work_centres[centre.work_centre_id] = centre.calendar
        for item in items.values():
            if item.work_centre_id is None:
                plan.calendars[item.item_id] = data.plant_calendar
            elif item.work_centre_id in work_centres:
                plan.calendars[item.item_id] = work_centres[item.work_centre_id]
            else:
                raise InvalidPlanningData("the item's work centre is not in the run", code=errors.UNKNOWN_WORK_CENTRE,
                                          item_id=item.item_id, work_centre_id=item.work_centre_id)

        edges = []
        for line in data.bom_lines:
            _known(items, line.parent_id, "BOM line parent")
            _known(items, line.component_id, "BOM line component")
            _quantity(line.quantity_per, "quantity per", positive=True, parent_id=line.parent_id,
                      component_id=line.component_id)
            _quantity(line.scrap_factor, "scrap factor", parent_id=line.parent_id, component_id=line.component_id)
            edges.append((line.parent_id, line.component_id))
            if items[line.parent_id].procurement is not Procurement.BUY:  # a bought item's lines are the supplier's
                plan.components.setdefault(line.parent_id, []).append(
                    (line.component_id, line.quantity_per * (1 + line.scrap_factor)))
        for parent_lines in plan.components.values():
            parent_lines.sort()
        for item in items.values():
            if item.procurement is Procurement.PHANTOM and item.item_id not in plan.components:
                raise InvalidPlanningData("a phantom needs BOM lines to pass its demand to",
                                          code=errors.INVALID_PHANTOM, item_id=item.item_id)
        plan.codes = low_level_codes(sorted(items), edges)
        plan.items_in_order = sorted(items.values(), key=lambda item: (plan.codes[item.item_id], item.item_id))

        demand_ids: set[str] = set()
        for demand in data.demands:
            _known(items, demand.item_id, "demand")
            _quantity(demand.quantity, "demand quantity", positive=True, demand_id=demand.demand_id)
            if demand.demand_id in demand_ids:
                raise InvalidPlanningData("two demand lines share an id", code=errors.DUPLICATE_DEMAND,
                                          demand_id=demand.demand_id)
            demand_ids.add(demand.demand_id)
            due = demand.due_date.toordinal()
            plan.requirements.setdefault(demand.item_id, []).append(
                (due if due > run else run, due, DEMAND, demand.demand_id, demand.quantity))
        for stock in data.on_hand:
            _known(items, stock.item_id, "on-hand")
            _quantity(stock.quantity, "on-hand quantity", negative=True, item_id=stock.item_id)
            plan.on_hand[stock.item_id] = plan.on_hand.get(stock.item_id, ZERO) + stock.quantity
        for receipt in data.scheduled_receipts:
            _known(items, receipt.item_id, "scheduled receipt")
            _quantity(receipt.quantity, "receipt quantity", positive=True, receipt_id=receipt.receipt_id)
            due = receipt.due_date.toordinal()
            bucket = due if due > run else run
            by_bucket = plan.receipts.setdefault(receipt.item_id, {})
            by_bucket[bucket] = by_bucket.get(bucket, ZERO) + receipt.quantity
        return plan


def _items_by_id(items: tuple[Item, ...]) -> dict[str, Item]:
    by_id: dict[str, Item] = {}
    for item in items:
        if item.item_id in by_id:
            raise InvalidPlanningData("two items share an id", code=errors.DUPLICATE_ITEM, item_id=item.item_id)
        if not isinstance(item.lead_time_days, int) or item.lead_time_days < 0:
            raise InvalidPlanningData("a lead time is a whole number of working days, 0 or more",
                                      code=errors.INVALID_LEAD_TIME, item_id=item.item_id,
                                      lead_time_days=repr(item.lead_time_days))
        _quantity(item.safety_stock, "safety stock", item_id=item.item_id)
        if item.procurement is Procurement.PHANTOM and (item.safety_stock or item.lot_sizing != LOT_FOR_LOT):
            raise InvalidPlanningData("a phantom is never stocked on purpose nor ordered: no safety stock, no lot size",
                                      code=errors.INVALID_PHANTOM, item_id=item.item_id)
        by_id[item.item_id] = item
    return by_id


def _known(items: dict[str, Item], item_id: str, where: str) -> None:
    if item_id not in items:
        raise InvalidPlanningData(f"{where} names an item that is not in the run", code=errors.UNKNOWN_ITEM,
                                  item_id=item_id)


def _quantity(value: Decimal, what: str, *, positive: bool = False, negative: bool = False, **ids: str) -> None:
    if not is_quantity(value) or (positive and value <= 0) or (not positive and not negative and value < 0):
        bound = "above 0" if positive else "of any sign" if negative else "0 or more"
        raise InvalidPlanningData(f"{what} must be a Decimal {bound} with at most 9 decimals",
                                  code=errors.INVALID_QUANTITY, value=str(value), **ids)
