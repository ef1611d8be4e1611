"""The capacity calculator (``erp/manufacturing/capacity.py``): load per work centre per day
against its capacity, on random orders and calendars (hypothesis), and a worked example."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erp.manufacturing import errors
from erp.manufacturing.capacity import (
    CentreCapacity, OperationLoad, OrderLoad, capacity_load, operation_hours, spread, window_days,
)
from erp.manufacturing.errors import InvalidPlanningData
from erp.manufacturing.working_calendar import WorkingCalendar

D = Decimal
START = date(2026, 1, 26)  # a Monday, the week before the Spring Festival holidays
HORIZON = 40

amounts = st.decimals(min_value=0, max_value=50, places=3, allow_nan=False, allow_infinity=False)


@st.composite
def calendars(draw, calendar_id: str) -> WorkingCalendar:
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1))
    days = [START + timedelta(n) for n in range(HORIZON)]
    holidays = draw(st.sets(st.sampled_from(days), max_size=8))
    extra = draw(st.sets(st.sampled_from(days), max_size=4)) - holidays
    return WorkingCalendar(calendar_id, weekdays, holidays, extra)


@st.composite
def plans(draw):
    centre_ids = draw(st.lists(st.sampled_from(["装配", "车削", "𠮷-焊接"]), min_size=1, max_size=3, unique=True))
    centres = tuple(CentreCapacity(c, draw(calendars(c)), draw(amounts)) for c in centre_ids)
    orders = []
    for n in range(draw(st.integers(0, 8))):
        start = START + timedelta(draw(st.integers(0, HORIZON - 10)))
        due = start + timedelta(draw(st.integers(0, 9)))
        operations = tuple(
            OperationLoad(draw(st.sampled_from(centre_ids)), draw(amounts), draw(amounts),
                          draw(st.none() | amounts))
            for _ in range(draw(st.integers(0, 3))))
        orders.append(OrderLoad(f"WO-{n}", "work_order", draw(amounts), start, due, operations))
    return centres, tuple(orders)


def run(centres, orders):
    return capacity_load(centres, orders, START, START + timedelta(HORIZON - 1))


@settings(max_examples=200, deadline=None)
@given(plans())
def test_the_loads_of_a_centre_add_up_to_its_operations_setup_plus_run_times_quantity(plan):
    centres, orders = plan
    result = run(centres, orders)
    for centre in centres:
        expected = sum((operation_hours(op, order.quantity) for order in orders for op in order.operations
                        if op.work_centre_id == centre.work_centre_id), D(0))
        loaded = sum((day.load_hours for day in result.days if day.work_centre_id == centre.work_centre_id), D(0))
        assert loaded == expected


@settings(max_examples=200, deadline=None)
@given(plans())
def test_overloads_are_exactly_the_days_loaded_above_capacity(plan):
    centres, orders = plan
    result = run(centres, orders)
    assert list(result.overloads) == [day for day in result.days if day.load_hours > day.capacity_hours]
    calendar = {c.work_centre_id: c.calendar for c in centres}
    for day in result.days:
        if not calendar[day.work_centre_id].is_working_day(day.day):
            assert day.capacity_hours == 0
            if day.load_hours > 0:
                assert day in result.overloads  # load on a day without working time is always an overload


@settings(max_examples=200, deadline=None)
@given(plans())
def test_load_falls_on_working_days_of_the_window_or_on_the_start_of_a_window_without_one(plan):
    centres, orders = plan
    result = run(centres, orders)
    calendar = {c.work_centre_id: c.calendar for c in centres}
    for day in result.days:
        for order_id in day.orders:
            order = next(o for o in orders if o.order_id == order_id)
            working = window_days(calendar[day.work_centre_id], order.start_date, order.due_date)
            assert day.day in working
            assert calendar[day.work_centre_id].is_working_day(day.day) or working == [order.start_date]


@settings(max_examples=100, deadline=None)
@given(plans(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_the_inputs(plan, rnd):
    centres, orders = plan
    shuffled_orders, shuffled_centres = list(orders), list(centres)
    rnd.shuffle(shuffled_orders)
    rnd.shuffle(shuffled_centres)
    assert run(tuple(shuffled_centres), tuple(shuffled_orders)) == run(centres, orders)


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=1000, places=9), st.integers(1, 30))
def test_spreading_keeps_the_exact_total_with_equal_shares_but_the_last(hours, count):
    days = [START + timedelta(n) for n in range(count)]
    shares = spread(hours, days)
    assert sum((share for _, share in shares), D(0)) == hours
    assert [day for day, _ in shares] == days
    assert len({share for _, share in shares[:-1]}) <= 1
    assert all(share >= 0 for _, share in shares)


def test_a_week_of_assembly_with_the_spring_festival_and_a_make_up_saturday():
    # 2026: Spring Festival holidays 16–22 February; Saturday 14 February is worked (调休).
    holidays = frozenset(date(2026, 2, 16) + timedelta(n) for n in range(7))
    calendar = WorkingCalendar("2026", holidays=holidays, extra_working_days={date(2026, 2, 14)})
    centres = (CentreCapacity("装配𠮷", calendar, D(8)),)
    orders = (
        # 2 + 0.5 × 20 = 12 hours over Thu 12, Fri 13, Sat 14 February (window up to the 16th)
        OrderLoad("WO-1", "work_order", D(20), date(2026, 2, 12), date(2026, 2, 16),
                  (OperationLoad("装配𠮷", D(2), D("0.5")),)),
        # lead time 0 on a holiday: all 3 hours on that day, which has no capacity
        OrderLoad("PO-plan", "planned_order", D(6), date(2026, 2, 17), date(2026, 2, 17),
                  (OperationLoad("装配𠮷", D(0), D("0.5")),)),
        # in progress: 4 of 10 units made, setup done
        OrderLoad("WO-2", "work_order", D(10), date(2026, 2, 13), date(2026, 2, 14),
                  (OperationLoad("装配𠮷", D(0), D(1), quantity=D(6)),)),
    )
    result = capacity_load(centres, orders, date(2026, 2, 12), date(2026, 2, 17))
    load = {day.day: (day.load_hours, day.capacity_hours, day.orders) for day in result.days}
    assert load[date(2026, 2, 12)] == (D(4), D(8), ("WO-1",))
    assert load[date(2026, 2, 13)] == (D(10), D(8), ("WO-1", "WO-2"))
    assert load[date(2026, 2, 14)] == (D(4), D(8), ("WO-1",))
    assert load[date(2026, 2, 15)] == (D(0), D(0), ())
    assert load[date(2026, 2, 17)] == (D(3), D(0), ("PO-plan",))
    assert [day.day for day in result.overloads] == [date(2026, 2, 13), date(2026, 2, 17)]


def test_an_operation_on_a_centre_outside_the_calculation_is_refused():
    with pytest.raises(InvalidPlanningData) as refusal:
        capacity_load((), (OrderLoad("WO-1", "work_order", D(1), START, START, (OperationLoad("x", D(1), D(1)),)),),
                      START, START)
    assert refusal.value.code == errors.UNKNOWN_WORK_CENTRE
