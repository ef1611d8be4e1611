"""Business dates: which calendar day a moment falls on in Wuhan.

Valid-until dates of quotations, warranty dates and sales report days are calendar dates in
China Standard Time (UTC+8, no daylight saving time), whatever the time zone of the device or
server that records the moment. Moments are stored in UTC; dates as ISO 8601 text (its text
sorts as the date), like the due dates of work orders.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


def business_date(moment: datetime) -> date:
    """The calendar day in Wuhan of an aware ``moment``."""
    return moment.astimezone(CHINA_STANDARD_TIME).date()


def start_of(day: date) -> datetime:
    """The first moment (UTC) of ``day`` in Wuhan."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_STANDARD_TIME).astimezone(timezone.utc)
