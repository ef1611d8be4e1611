"""Pure rules of cycle counting: which items are due for a count, and which variances need a look.

No I/O: the HQ API feeds them what it read, and the property tests feed them anything.

- ``due_for_count``: ABC counting. Class A items (the few that carry most of the value) are
  counted often, C items rarely. An item is due when it was never counted, or when its class's
  interval has passed since its last count. The most overdue come first, so a count sized to
  the week's capacity takes the ones that matter.
- ``exceeds_tolerance``: a line is within tolerance when its difference is at most the absolute
  tolerance, or at most the percentage of the system quantity; otherwise a reviewer looks at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Mapping

# Days between two counts of an item of each class; an item without a class counts as C.
DEFAULT_INTERVALS: Mapping[str, int] = {"A": 30, "B": 90, "C": 180}


@dataclass(frozen=True)
class ItemCountHistory:
    item_id: str
    abc_class: str | None  # A | B | C; None: C
    last_counted_on: date | None  # None: never counted


def due_for_count(
    history: list[ItemCountHistory], today: date, *, intervals: Mapping[str, int] = DEFAULT_INTERVALS,
    limit: int | None = None,
) -> list[str]:
    """Ids of the items due on ``today``: never counted first, then the most overdue, then by id."""
    due: list[tuple[int, str]] = []
    for entry in history:
        interval = intervals.get(entry.abc_class or "C", intervals["C"])
        if entry.last_counted_on is None:
            due.append((-(10 ** 9), entry.item_id))  # ahead of any overdue item
            continue
        overdue = (today - entry.last_counted_on).days - interval
        if overdue >= 0:
            due.append((-overdue, entry.item_id))
    due.sort()
    chosen = [item_id for _, item_id in due]
    return chosen if limit is None else chosen[:limit]


def exceeds_tolerance(
    counted: Decimal, system: Decimal, *, absolute: Decimal = Decimal(0), percent: Decimal | None = None
) -> bool:
    """Whether counted − system is beyond both the absolute and the percentage tolerance."""
    difference = abs(counted - system)
    if difference <= absolute:
        return False
    if percent is not None and difference * 100 <= abs(system) * percent:
        return False
    return True
