"""Working calendars: weekdays, holidays, make-up working days (调休), lead-time offsets."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erp.manufacturing import errors
from erp.manufacturing.errors import InvalidCalendar
from erp.manufacturing.working_calendar import MONDAY_TO_SATURDAY, WorkingCalendar

# Spring Festival 2025: off from Tuesday 28 January to Tuesday 4 February; Sunday 26 January
# and Saturday 8 February were worked instead.
SPRING_FESTIVAL_2025 = WorkingCalendar(
    "plant",
    holidays=frozenset(date(2025, 1, 28) + timedelta(days=n) for n in range(8)),
    extra_working_days=frozenset({date(2025, 1, 26), date(2025, 2, 8)}),
)


def test_holidays_and_make_up_days_decide_over_the_weekday():
    calendar = SPRING_FESTIVAL_2025
    assert calendar.is_working_day(date(2025, 1, 27))  # Monday
    assert not calendar.is_working_day(date(2025, 1, 29))  # Wednesday, in the holiday
    assert calendar.is_working_day(date(2025, 1, 26))  # Sunday, make-up day
    assert calendar.is_working_day(date(2025, 2, 8))  # Saturday, make-up day
    assert not calendar.is_working_day(date(2025, 2, 15))  # an ordinary Saturday
    assert not calendar.is_working_day(date(2025, 2, 9))  # an ordinary Sunday


def test_lead_time_is_offset_backwards_over_the_holiday():
    need = date(2025, 2, 10)  # Monday after the holiday
    calendar = SPRING_FESTIVAL_2025
    # Sat 8 Feb (make-up) is 1, Fri 7 is 2, Thu 6 is 3.
    assert calendar.subtract_working_days(need, 3) == date(2025, 2, 6)
    # Wed 5 Feb is 4; 28 Jan to 4 Feb are off; Mon 27 Jan is 5 and the make-up Sun 26 Jan is 6.
    assert calendar.subtract_working_days(need, 4) == date(2025, 2, 5)
    assert calendar.subtract_working_days(need, 5) == date(2025, 1, 27)
    assert calendar.subtract_working_days(need, 6) == date(2025, 1, 26)
    assert calendar.subtract_working_days(need, 7) == date(2025, 1, 24)  # Friday; Sat 25 is not worked


def test_zero_lead_time_keeps_the_date_and_a_holiday_need_date_counts_from_before_it():
    calendar = SPRING_FESTIVAL_2025
    assert calendar.subtract_working_days(date(2025, 2, 9), 0) == date(2025, 2, 9)  # a Sunday stays
    assert calendar.subtract_working_days(date(2025, 2, 3), 1) == date(2025, 1, 27)  # needed mid-holiday


def test_adding_and_counting_working_days():
    calendar = SPRING_FESTIVAL_2025
    assert calendar.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert calendar.add_working_days(date(2025, 2, 7), 1) == date(2025, 2, 8)
    assert calendar.working_days_between(date(2025, 1, 26), date(2025, 2, 10)) == 6
    assert calendar.working_days_between(date(2025, 2, 10), date(2025, 1, 26)) == 0


def test_a_six_day_work_centre():
    calendar = WorkingCalendar("press shop", working_weekdays=MONDAY_TO_SATURDAY)
    assert calendar.subtract_working_days(date(2025, 3, 10), 1) == date(2025, 3, 8)  # Saturday
    assert calendar.subtract_working_days(date(2025, 3, 10), 7) == date(2025, 3, 1)


def test_long_offsets_reach_beyond_the_cached_span():
    calendar = WorkingCalendar("plant")
    assert calendar.subtract_working_days(date(2025, 3, 3), 2_610) == date(2015, 3, 2)  # 522 weeks of 5 days
    assert calendar.add_working_days(date(2015, 3, 2), 2_610) == date(2025, 3, 3)


def test_a_calendar_must_work_some_day_and_not_contradict_itself():
    with pytest.raises(InvalidCalendar) as refused:
        WorkingCalendar("idle", working_weekdays=frozenset())
    assert refused.value.code == errors.INVALID_CALENDAR
    with pytest.raises(InvalidCalendar):
        WorkingCalendar("odd", holidays=frozenset({date(2025, 2, 8)}), extra_working_days=frozenset({date(2025, 2, 8)}))


def _naive_subtract(calendar: WorkingCalendar, day: date, count: int) -> date:
    while count:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


START = date(2025, 1, 1)
days = st.integers(0, 120).map(lambda n: START + timedelta(days=n))


@st.composite
def calendars(draw) -> WorkingCalendar:
    weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    holidays = draw(st.frozensets(days, max_size=20))
    extra = draw(st.frozensets(days, max_size=10)) - holidays
    return WorkingCalendar("random", weekdays, holidays, extra)


@settings(deadline=None)  # a busy machine makes single examples slow now and then
@given(calendars(), days, st.integers(0, 40))
def test_subtracting_counts_exactly_the_working_days(calendar, need, count):
    release = calendar.subtract_working_days(need, count)
    assert release == _naive_subtract(calendar, need, count)
    assert calendar.working_days_between(release, need) == count
    if count:
        assert release < need and calendar.is_working_day(release)
        first_working_on_or_after = need
        while not calendar.is_working_day(first_working_on_or_after):
            first_working_on_or_after += timedelta(days=1)
        assert calendar.add_working_days(release, count) == first_working_on_or_after
    else:
        assert release == need
