"""Working calendars: which dates a plant or work centre works, and lead-time offsets on them.

A date is a working day when it is one of the extra working dates, or when its weekday is a
working weekday and it is not a holiday. The extra dates carry the make-up working days of
Chinese public holidays (调休): around the Spring Festival of 2025, for example, Sunday 26
January and Saturday 8 February were worked to bridge the holiday of 28 January to 4 February.

Invariants:
- A calendar is immutable once built (the cache of working days below is not part of its value).
- It has at least one working weekday, so every offset ends; no date is both a holiday and an
  extra working date.
- Offsets count working days only and are exact: ``subtract_working_days(d, n)`` for n ≥ 1 is
  the n-th working day strictly before ``d``, whether or not ``d`` itself is a working day, so
  there are exactly n working days in [result, d). For n = 0 it is ``d`` itself.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, timedelta

from erp.manufacturing.errors import InvalidCalendar

MONDAY_TO_FRIDAY = frozenset(range(5))  # date.weekday(): Monday is 0
MONDAY_TO_SATURDAY = frozenset(range(6))

_EXTEND_BY_DAYS = 400  # a little over a year per extension: one plan rarely needs a second


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """The working days of one plant or work centre."""

    calendar_id: str
    working_weekdays: frozenset[int] = MONDAY_TO_FRIDAY  # 0 = Monday … 6 = Sunday
    holidays: frozenset[date] = frozenset()  # non-working dates, whatever their weekday
    extra_working_days: frozenset[date] = frozenset()  # worked although their weekday is not (调休)
    # Sorted ordinals of the working days in [_span[0], _span[1]]: filled lazily, so offsets
    # are a bisect instead of a day-by-day walk. Offsets are called once per planned order.
    _working: list[int] = field(default_factory=list, init=False, repr=False, compare=False)
    _span: list[int] = field(default_factory=lambda: [0, -1], init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept any iterables (lists of dates read from a table) but keep immutable sets.
        object.__setattr__(self, "working_weekdays", frozenset(self.working_weekdays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "extra_working_days", frozenset(self.extra_working_days))
        if not self.working_weekdays or not self.working_weekdays <= frozenset(range(7)):
            raise InvalidCalendar(
                "a working calendar needs at least one working weekday, each from 0 (Monday) to 6 (Sunday)",
                calendar_id=self.calendar_id, working_weekdays=sorted(self.working_weekdays))
        both = self.holidays & self.extra_working_days
        if both:
            raise InvalidCalendar("a date cannot be both a holiday and an extra working day",
                                  calendar_id=self.calendar_id,
                                  dates=sorted(d.isoformat() for d in both))

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() in self.working_weekdays and day not in self.holidays

    def subtract_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day before ``day`` (``day`` itself when count is 0)."""
        return date.fromordinal(self.subtract_working_days_ordinal(day.toordinal(), count))

    def subtract_working_days_ordinal(self, ordinal: int, count: int) -> int:
        """``subtract_working_days`` on proleptic ordinals, the calculator's internal dates."""
        if count < 0:
            raise ValueError("count must be zero or more")
        if count == 0:
            return ordinal
        working = self._covering(ordinal - 1, ordinal - 1)
        index = bisect_left(working, ordinal) - count
        while index < 0:
            working = self._covering(self._span[0] - _EXTEND_BY_DAYS, ordinal - 1)
            index = bisect_left(working, ordinal) - count
        return working[index]

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (``day`` itself when count is 0)."""
        if count < 0:
            raise ValueError("count must be zero or more")
        if count == 0:
            return day
        ordinal = day.toordinal()
        working = self._covering(ordinal + 1, ordinal + 1)
        index = bisect_left(working, ordinal + 1) + count - 1
        while index >= len(working):
            working = self._covering(ordinal + 1, self._span[1] + _EXTEND_BY_DAYS)
            index = bisect_left(working, ordinal + 1) + count - 1
        return date.fromordinal(working[index])

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days fall in [start, end); 0 when end is not after start."""
        if end <= start:
            return 0
        working = self._covering(start.toordinal(), end.toordinal() - 1)
        return bisect_left(working, end.toordinal()) - bisect_left(working, start.toordinal())

    def _covering(self, low: int, high: int) -> list[int]:
        """The cached working-day ordinals, extended so they cover [low, high]."""
        span_low, span_high = self._span
        if span_low <= low and high <= span_high:
            return self._working
        if span_high < span_low:  # nothing cached yet
            span_low, span_high = low - _EXTEND_BY_DAYS, high + _EXTEND_BY_DAYS
        else:
            span_low = min(span_low, low - _EXTEND_BY_DAYS) if low < span_low else span_low
            span_high = max(span_high, high + _EXTEND_BY_DAYS) if high > span_high else span_high
        first = date.fromordinal(span_low)
        working = [span_low + offset for offset in range(span_high - span_low + 1)
                   if self.is_working_day(first + timedelta(days=offset))]
        self._working[:] = working
        self._span[:] = [span_low, span_high]
        return self._working
