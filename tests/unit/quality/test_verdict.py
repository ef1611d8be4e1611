"""The inspection verdict and the sample size: pure functions held to their rules by properties."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from erp.quality.verdict import Characteristic, Reading, judge, required_sample

values = st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False)


@st.composite
def measured(draw, name: str) -> Characteristic:
    a, b = sorted((draw(values), draw(values)))
    lower = draw(st.one_of(st.none(), st.just(a)))
    upper = draw(st.one_of(st.none(), st.just(b)))
    return Characteristic(name, "measured", None, lower, upper, "mm")


@st.composite
def plan_and_readings(draw):
    """A plan of 1–5 characteristics (names with 4-byte characters) and readings covering each."""
    count = draw(st.integers(1, 5))
    characteristics = []
    for index in range(count):
        name = f"特性𠮷{index}"
        if draw(st.booleans()):
            characteristics.append(draw(measured(name)))
        else:
            characteristics.append(Characteristic(name, "attribute"))
    readings = []
    for characteristic in characteristics:
        for _ in range(draw(st.integers(1, 3))):
            if characteristic.kind == "measured":
                readings.append(Reading(characteristic.name, value=draw(values)))
            else:
                readings.append(Reading(characteristic.name, ok=draw(st.booleans())))
    return characteristics, readings


def inside(characteristic: Characteristic, value: Decimal) -> Decimal:
    """``value`` pulled within the characteristic's limits."""
    if characteristic.lower is not None:
        value = max(value, characteristic.lower)
    if characteristic.upper is not None:
        value = min(value, characteristic.upper)
    return value


@given(plan_and_readings(), st.randoms())
def test_the_verdict_does_not_depend_on_the_order_of_the_readings(case, random):
    characteristics, readings = case
    shuffled = list(readings)
    random.shuffle(shuffled)
    assert judge(characteristics, readings) == judge(list(reversed(characteristics)), shuffled)


@given(plan_and_readings())
def test_values_inside_the_limits_and_ok_attributes_always_pass(case):
    characteristics, readings = case
    by_name = {c.name: c for c in characteristics}
    good = [Reading(r.characteristic, value=inside(by_name[r.characteristic], r.value)) if r.value is not None
            else Reading(r.characteristic, ok=True) for r in readings]
    verdict = judge(characteristics, good)
    assert verdict.passed and verdict.verdict == "pass"
    assert verdict.failed == verdict.missing == verdict.problems == ()


@given(plan_and_readings(), st.data())
def test_one_not_ok_attribute_fails_the_inspection(case, data):
    characteristics, readings = case
    attribute = data.draw(st.sampled_from(characteristics)).name
    by_name = {c.name: c for c in characteristics}
    if by_name[attribute].kind != "attribute":
        characteristics = [Characteristic(c.name, "attribute") if c.name == attribute else c for c in characteristics]
        readings = [Reading(r.characteristic, ok=True) if r.characteristic == attribute else r for r in readings]
    verdict = judge(characteristics, [*readings, Reading(attribute, ok=False)])
    assert not verdict.passed and attribute in verdict.failed


@given(plan_and_readings())
def test_the_verdict_fails_exactly_on_the_characteristics_with_a_reading_out_of_limits(case):
    characteristics, readings = case
    by_name = {c.name: c for c in characteristics}
    expected = {r.characteristic for r in readings if not by_name[r.characteristic].passes(r.value, r.ok)}
    verdict = judge(characteristics, readings)
    assert set(verdict.failed) == expected and verdict.passed == (not expected)
    assert list(verdict.failed) == sorted(verdict.failed)


@given(plan_and_readings())
def test_a_characteristic_nobody_measured_keeps_the_inspection_from_passing(case):
    characteristics, readings = case
    dropped = characteristics[0].name
    verdict = judge(characteristics, [r for r in readings if r.characteristic != dropped])
    assert not verdict.passed and verdict.missing == (dropped,)


def test_limits_are_inclusive_and_a_missing_limit_does_not_bound():
    diameter = Characteristic("外径", "measured", Decimal("10.00"), Decimal("9.95"), Decimal("10.05"), "mm")
    assert judge([diameter], [Reading("外径", value=Decimal("9.95")), Reading("外径", value=Decimal("10.05"))]).passed
    assert judge([diameter], [Reading("外径", value=Decimal("10.0500001"))]).failed == ("外径",)
    torque = Characteristic("扭矩", "measured", None, Decimal("5"), None, "N·m")
    assert judge([torque], [Reading("扭矩", value=Decimal("1E+6"))]).passed


def test_readings_that_cannot_be_judged_are_problems_not_failures():
    plan = [Characteristic("外径", "measured", lower=Decimal(1)), Characteristic("外观", "attribute")]
    verdict = judge(plan, [Reading("外径", ok=True), Reading("外观", value=Decimal(1)), Reading("颜色𠮷", ok=True),
                           Reading("外径", value=Decimal("NaN"))])
    assert verdict.failed == () and not verdict.passed
    assert len(verdict.problems) == 4
    assert any(problem.startswith("颜色𠮷") for problem in verdict.problems)


@given(st.integers(1, 500), st.decimals(min_value=1, max_value=100_000, places=3))
def test_a_fixed_sample_is_the_plan_s_count_never_more_than_the_lot(pieces, lot):
    sample = required_sample("fixed", Decimal(pieces), lot)
    assert 1 <= sample <= pieces
    assert sample == pieces or sample >= lot  # smaller only when the whole lot is inspected


@given(st.decimals(min_value=Decimal("0.01"), max_value=100, places=2), st.decimals(min_value=1, max_value=100_000,
                                                                                    places=3))
def test_a_percentage_sample_rounds_up_and_stays_within_the_lot(percent, lot):
    sample = required_sample("percent", percent, lot)
    assert 1 <= sample
    assert sample >= lot * percent / 100 or sample >= lot
    assert sample - 1 < max(lot * percent / 100, 1)


def test_a_percentage_of_an_unknown_lot_asks_for_nothing_in_particular():
    assert required_sample("percent", Decimal(10), None) is None
    assert required_sample("fixed", Decimal(5), None) == 5
    assert required_sample("percent", Decimal(10), Decimal(95)) == 10
