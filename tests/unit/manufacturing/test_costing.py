"""Work-order costing (``erp.manufacturing.costing``): material at standard cost, labour and
overhead at the work centres' hourly rates, exact Decimals."""

from __future__ import annotations

from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from erp.manufacturing.costing import MaterialUse, OperationTime, work_order_cost

D = Decimal
# The calculator is exact; the checks must be too (the default context rounds at 28 digits).
EXACT_DIGITS = 80

amounts = st.decimals(min_value=D(0), max_value=D("99999999.999999999"), places=9)
signed = st.decimals(min_value=D("-1000"), max_value=D("99999999.999999999"), places=9)
materials = st.lists(st.builds(MaterialUse, st.sampled_from(["bolt", "gear", "housing", "paint"]), signed,
                               st.one_of(st.none(), amounts)), max_size=8)
operations = st.lists(st.builds(OperationTime, st.integers(1, 9).map(lambda n: n * 10),
                                st.sampled_from(["ASM", "TST"]), amounts, amounts, amounts), max_size=6)


def test_a_gearbox_order():
    cost = work_order_cost(
        [MaterialUse("housing", D("10.5"), D("120.50")), MaterialUse("bolt", D(40), D("0.35")),
         MaterialUse("paint", D("0.8"), None)],
        [OperationTime(10, "ASM", D(2), D(36), D(20)), OperationTime(20, "TST", D("2.5"), D(40), D("12.5"))],
        D(10))
    assert cost.material == D("1265.25") + D(14)
    assert (cost.labour, cost.overhead) == (D(172), D("71.25"))
    assert cost.total == D("1522.50")
    assert cost.unit_cost == D("152.25")
    assert cost.uncosted_items == ["paint"]


def test_nothing_completed_has_no_unit_cost_and_an_unfinished_division_rounds_half_even():
    assert work_order_cost([MaterialUse("bolt", D(1), D(1))], [], D(0)).unit_cost is None
    assert work_order_cost([MaterialUse("bolt", D(1), D(1))], [], D(3)).unit_cost == D("0.333333333")
    assert work_order_cost([MaterialUse("bolt", D(2), D(1))], [], D(3)).unit_cost == D("0.666666667")


@given(materials, operations, amounts)
def test_the_total_is_the_sum_of_its_parts_and_each_part_the_sum_of_its_lines(used, times, completed):
    with localcontext(prec=EXACT_DIGITS):
        _check_sums(used, times, completed)


def _check_sums(used, times, completed):
    cost = work_order_cost(used, times, completed)
    assert cost.total == cost.material + cost.labour + cost.overhead
    assert cost.material == sum((line.amount for line in cost.materials), D(0))
    assert cost.labour == sum((line.labour for line in cost.operations), D(0))
    assert cost.overhead == sum((line.overhead for line in cost.operations), D(0))
    for line in cost.materials:
        expected = line.quantity * line.unit_cost if line.unit_cost is not None else 0
        assert line.amount == expected
    assert sorted((line.operation_seq, line.hours, line.labour, line.overhead) for line in cost.operations) == sorted(
        (t.operation_seq, t.hours, t.hours * t.labour_rate, t.hours * t.overhead_rate) for t in times)


@given(materials, operations, amounts, st.randoms(use_true_random=False))
def test_the_order_of_the_inputs_does_not_change_the_cost(used, times, completed, random):
    shuffled_used, shuffled_times = list(used), list(times)
    random.shuffle(shuffled_used)
    random.shuffle(shuffled_times)
    a, b = work_order_cost(used, times, completed), work_order_cost(shuffled_used, shuffled_times, completed)
    assert (a.material, a.labour, a.overhead, a.total, a.unit_cost) == (b.material, b.labour, b.overhead, b.total,
                                                                        b.unit_cost)


@given(materials, operations, st.decimals(min_value=D("0.001"), max_value=D(100000), places=3))
def test_the_unit_cost_times_the_quantity_is_the_total_within_half_a_billionth_per_unit(used, times, completed):
    cost = work_order_cost(used, times, completed)
    with localcontext(prec=EXACT_DIGITS):
        assert abs(cost.unit_cost * completed - cost.total) <= D("0.0000000005") * completed


@given(st.lists(st.builds(MaterialUse, st.sampled_from(["a", "b"]), amounts, st.none()), max_size=4), operations)
def test_items_without_a_standard_cost_are_named_and_add_nothing(used, times):
    cost = work_order_cost(used, times, D(1))
    assert cost.material == 0
    assert set(cost.uncosted_items) == {line.item_id for line in cost.materials if line.quantity != 0}
