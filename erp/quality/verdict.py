"""The verdict of an inspection: pure, from the plan's characteristics and the values measured.

No I/O: the result mutation (result.py) and the HQ preview both call ``judge``; property tests
(hypothesis) hold it to its rules.

Rules:
- A ``measured`` characteristic passes a value ``v`` when ``lower <= v <= upper`` (limits are
  inclusive; a missing limit does not bound that side). Any value outside fails the inspection.
- An ``attribute`` characteristic (a go/no-go check: 外观, 标签) passes a measurement that says
  ``ok``; one ``not ok`` fails the inspection.
- A sample may carry several measurements of one characteristic (one per piece inspected);
  every one is judged, so the verdict does not depend on their order.
- The inspection passes when nothing failed and every characteristic has at least one
  measurement. Measurements naming no characteristic of the plan, a measured characteristic
  given ok/not-ok, or an attribute given a number are input errors (``problems``), not verdicts:
  the caller refuses such a record, because it cannot be judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Iterable, Literal

CharacteristicKind = Literal["measured", "attribute"]
SampleKind = Literal["fixed", "percent"]


@dataclass(frozen=True)
class Characteristic:
    """One thing a plan checks, with its limits (Decimal, in ``unit``)."""

    name: str
    kind: CharacteristicKind
    nominal: Decimal | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    unit: str | None = None

    def passes(self, value: Decimal | None, ok: bool | None) -> bool:
        if self.kind == "attribute":
            return ok is True
        assert value is not None
        return (self.lower is None or value >= self.lower) and (self.upper is None or value <= self.upper)


@dataclass(frozen=True)
class Reading:
    """One measurement of one characteristic: a value (measured) or ok / not ok (attribute)."""

    characteristic: str
    value: Decimal | None = None
    ok: bool | None = None


@dataclass(frozen=True)
class Verdict:
    passed: bool
    failed: tuple[str, ...]  # names of the characteristics with at least one failing reading, sorted
    missing: tuple[str, ...]  # characteristics of the plan nobody measured, sorted
    problems: tuple[str, ...]  # readings that cannot be judged, as "<name>: <why>", sorted

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"


def reading_problem(characteristic: Characteristic | None, reading: Reading) -> str | None:
    """Why ``reading`` cannot be judged against ``characteristic``, or None if it can."""
    if characteristic is None:
        return f"{reading.characteristic}: not a characteristic of this plan"
    if characteristic.kind == "measured":
        if reading.value is None or reading.ok is not None:
            return f"{reading.characteristic}: a measured characteristic needs a value"
        if not reading.value.is_finite():
            return f"{reading.characteristic}: {reading.value} is not a number"
    elif reading.ok is None or reading.value is not None:
        return f"{reading.characteristic}: an attribute needs ok or not ok"
    return None


def judge(characteristics: Iterable[Characteristic], readings: Iterable[Reading]) -> Verdict:
    """Judge every reading; the inspection fails on any failure or missing characteristic."""
    by_name = {characteristic.name: characteristic for characteristic in characteristics}
    failed: set[str] = set()
    seen: set[str] = set()
    problems: set[str] = set()
    for reading in readings:
        characteristic = by_name.get(reading.characteristic)
        problem = reading_problem(characteristic, reading)
        if problem is not None:
            problems.add(problem)
            continue
        seen.add(reading.characteristic)
        if not characteristic.passes(reading.value, reading.ok):
            failed.add(reading.characteristic)
    missing = set(by_name) - seen
    return Verdict(passed=not failed and not missing and not problems, failed=tuple(sorted(failed)),
                   missing=tuple(sorted(missing)), problems=tuple(sorted(problems)))


def required_sample(kind: SampleKind, value: Decimal, lot_quantity: Decimal | None) -> int | None:
    """How many pieces a plan asks to inspect: ``value`` pieces (fixed), or ``value`` percent of
    the lot rounded up, at least one and at most the lot (None when the lot size is unknown)."""
    if kind == "fixed":
        return int(value) if lot_quantity is None else min(int(value), max(1, math.ceil(lot_quantity)))
    if lot_quantity is None:
        return None
    pieces = (lot_quantity * value / 100).to_integral_value(rounding=ROUND_CEILING)
    return max(1, min(int(pieces), math.ceil(lot_quantity)))
