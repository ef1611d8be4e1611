"""Capacity load (负荷): the hours work orders and planned make orders put on each work centre,
day by day, against the hours it has. Pure: typed inputs, typed result, no I/O.

Each order brings its operations (work centre, setup hours once per order, run hours per unit)
and a window: from its start date up to, not including, its due date (for a planned order its
release and need dates, so the window holds exactly its lead time in working days). An
operation's hours — setup + run per unit × quantity — are spread evenly over the working days of
its work centre's calendar in the window. A window without a working day (lead time 0, or only
holidays) puts all the hours on the start date, working or not: the load is real and the
planner must see it.

A day's capacity is the centre's hours per day on a working day of its calendar, 0 otherwise;
a day is an **overload** when its load is above its capacity (so load on a day without working
time is always one).

Invariants (property-tested):
- the loads of a centre add up exactly to the sum of its operations' setup + run × quantity
  (the operation's own quantity left, or its order's)
  (shares are rounded down to 9 decimals and the remainder goes on the last day);
- load falls only on working days of the window, except the start date of a window without one;
- the result does not depend on the order of the inputs; a day in the period with neither load
  nor capacity is still reported (load 0), so a chart has every day.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import msgspec

from erp.manufacturing import errors
from erp.manufacturing.checks import EXACT, NINE_DECIMALS
from erp.manufacturing.errors import InvalidPlanningData
from erp.manufacturing.lot_sizing import ZERO, is_quantity
from erp.manufacturing.working_calendar import WorkingCalendar


class CentreCapacity(msgspec.Struct, frozen=True):
    work_centre_id: str
    calendar: WorkingCalendar
    hours_per_day: Decimal  # on a working day of its calendar


class OperationLoad(msgspec.Struct, frozen=True):
    work_centre_id: str
    setup_hours: Decimal  # once per order
    run_hours_per_unit: Decimal
    quantity: Decimal | None = None  # units this operation still makes; None: the order's quantity


class OrderLoad(msgspec.Struct, frozen=True):
    order_id: str  # a work order's id or a planned order's id
    kind: str  # work_order | planned_order: carried through for the planner
    quantity: Decimal  # the quantity still to be made
    start_date: date
    due_date: date
    operations: tuple[OperationLoad, ...]


class DayLoad(msgspec.Struct, frozen=True):
    work_centre_id: str
    day: date
    load_hours: Decimal
    capacity_hours: Decimal
    orders: tuple[str, ...] = ()  # the orders loading the day, by id

    @property
    def overloaded(self) -> bool:
        return self.load_hours > self.capacity_hours


class CapacityResult(msgspec.Struct, frozen=True):
    days: tuple[DayLoad, ...]  # every centre × every day of the period, by centre then day
    overloads: tuple[DayLoad, ...]  # the days whose load is above their capacity


def operation_hours(operation: OperationLoad, order_quantity: Decimal) -> Decimal:
    """Setup + run per unit × the units the operation makes."""
    quantity = order_quantity if operation.quantity is None else operation.quantity
    return EXACT.add(operation.setup_hours, EXACT.multiply(operation.run_hours_per_unit, quantity))


def spread(hours: Decimal, days: list[date]) -> list[tuple[date, Decimal]]:
    """``hours`` shared evenly over ``days``: shares rounded down to 9 decimals, the rest on the last."""
    if len(days) == 1:
        return [(days[0], hours)]
    share = EXACT.divide(hours, len(days)).quantize(NINE_DECIMALS, rounding=ROUND_DOWN, context=EXACT)
    return [(day, share) for day in days[:-1]] + [(days[-1], EXACT.subtract(hours, share * (len(days) - 1)))]


def window_days(calendar: WorkingCalendar, start: date, due: date) -> list[date]:
    """The working days in [start, due); the start date alone if there are none."""
    days = [start + timedelta(n) for n in range((due - start).days)]
    working = [day for day in days if calendar.is_working_day(day)]
    return working or [start]


def capacity_load(centres: tuple[CentreCapacity, ...], orders: tuple[OrderLoad, ...], period_start: date,
                  period_end: date) -> CapacityResult:
    """Load and capacity per centre per day in [period_start, period_end], both inclusive.

    Operations on a centre not in ``centres`` are refused (``manufacturing.unknown_work_centre``):
    a load nobody can see would hide an overload.
    """
    by_id = {centre.work_centre_id: centre for centre in centres}
    load: dict[tuple[str, date], Decimal] = {}
    loaders: dict[tuple[str, date], set[str]] = {}
    for order in orders:
        _check(order.quantity, order.order_id, "quantity")
        for operation in order.operations:
            centre = by_id.get(operation.work_centre_id)
            if centre is None:
                raise InvalidPlanningData("an operation runs on a work centre that is not in the calculation",
                                          code=errors.UNKNOWN_WORK_CENTRE, order_id=order.order_id,
                                          work_centre_id=operation.work_centre_id)
            _check(operation.setup_hours, order.order_id, "setup hours")
            _check(operation.run_hours_per_unit, order.order_id, "run hours per unit")
            if operation.quantity is not None:
                _check(operation.quantity, order.order_id, "operation quantity")
            hours = operation_hours(operation, order.quantity)
            if not hours:
                continue
            for day, share in spread(hours, window_days(centre.calendar, order.start_date, order.due_date)):
                key = (centre.work_centre_id, day)
                load[key] = EXACT.add(load.get(key, ZERO), share)
                loaders.setdefault(key, set()).add(order.order_id)

    days = []
    span = (period_end - period_start).days + 1
    for centre in sorted(centres, key=lambda c: c.work_centre_id):
        for n in range(max(span, 0)):
            day = period_start + timedelta(n)
            key = (centre.work_centre_id, day)
            capacity = centre.hours_per_day if centre.calendar.is_working_day(day) else ZERO
            days.append(DayLoad(centre.work_centre_id, day, load.get(key, ZERO), capacity,
                                tuple(sorted(loaders.get(key, ())))))
    return CapacityResult(tuple(days), tuple(day for day in days if day.overloaded))


def _check(value: Decimal, order_id: str, what: str) -> None:
    if not is_quantity(value) or value < 0:
        raise InvalidPlanningData(f"{what} must be a Decimal of 0 or more with at most 9 decimals",
                                  code=errors.INVALID_QUANTITY, order_id=order_id, value=str(value))
