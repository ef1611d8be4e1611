"""Warranty dates: pure functions, no I/O, the same on device and server.

A warranty of N months starting on day D covers D up to the day before the same day N months
later (a 12-month warranty from 2025-03-15 covers up to 2026-03-14). When that later month is
shorter, the day is the month's last (2024-01-31 + 1 month is 2024-02-29, so the warranty
covers up to 2024-02-28). Dates are calendar days in Wuhan (erp/sales/business_day.py).

Invariants (tested with hypothesis):
- ``warranty_until(start, months)`` ≥ start for months ≥ 1, and never decreases as months grow.
- ``in_warranty`` is true exactly on the days from any start up to ``warranty_until``; with no
  warranty date nothing is under warranty.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

MAX_MONTHS = 120


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the last day of that month if it is shorter."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def warranty_until(start: date, months: int) -> date:
    """The last day covered by a warranty of ``months`` months starting on ``start``."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"a warranty lasts 1 to {MAX_MONTHS} months")
    return add_months(start, months) - timedelta(days=1)


def in_warranty(until: date | None, on: date) -> bool:
    """Whether ``on`` is covered by a warranty that runs until ``until`` (None: no warranty)."""
    return until is not None and on <= until


def days_left(until: date | None, on: date) -> int | None:
    """Days of warranty left after ``on`` (0 on the last day, negative once over; None: none)."""
    return None if until is None else (until - on).days
