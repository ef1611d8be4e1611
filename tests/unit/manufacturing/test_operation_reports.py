"""Operation reports summarized (``erp.manufacturing.operation_report.summarize``): quantities,
hours worked per operator from start → pause/finish, the operation's state; whatever the order
in which an offline tablet's reports arrive."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from erp.manufacturing.operation_report import OperationEvent, hours, summarize, worked_microseconds

T0 = datetime(2026, 3, 2, 0, 30, tzinfo=timezone.utc)
D = Decimal


def ev(n: int, operator: str, event: str, minutes: float, good: str = "0", scrap: str = "0") -> OperationEvent:
    return OperationEvent(f"r{n:03d}", operator, event, T0 + timedelta(minutes=minutes), D(good), D(scrap))


def test_a_shift_with_a_lunch_break_and_two_operators():
    reports = [ev(1, "李四", "start", 0), ev(2, "李四", "pause", 60, good="4"), ev(3, "李四", "start", 90),
               ev(4, "李四", "finish", 180, good="6", scrap="1"),
               ev(5, "王五", "start", 30), ev(6, "王五", "finish", 75, good="2")]
    summary = summarize(reports)
    assert (summary.good_quantity, summary.scrap_quantity) == (D(12), D(1))
    assert summary.worked_hours == D("3.25")  # 2.5 h + 0.75 h
    assert (summary.status, summary.last_report_at) == ("finished", T0 + timedelta(minutes=180))


def test_unmatched_events_add_no_time():
    assert worked_microseconds([ev(1, "a", "pause", 10), ev(2, "a", "finish", 20)]) == 0
    assert worked_microseconds([ev(1, "a", "start", 0)]) == 0  # still running: counted when it stops
    # A second start while running keeps the first: the interval is from 0 to 30.
    assert worked_microseconds([ev(1, "a", "start", 0), ev(2, "a", "start", 10), ev(3, "a", "pause", 30)]) == 1_800_000_000
    assert summarize([]).status == "pending" and summarize([]).worked_hours == 0


def test_hours_round_half_even_to_nine_decimals():
    assert hours(1) == D("0E-9")  # a microsecond is 2.8e-10 h
    assert hours(3_600_000_000) == 1
    assert hours(1_000_000) == D("0.000277778")


@st.composite
def shifts(draw):
    """Random reports of up to three operators, times in whole seconds over a day."""
    count = draw(st.integers(0, 25))
    return [OperationEvent(f"r{i:03d}", draw(st.sampled_from(["张三", "李四", "王五"])),
                           draw(st.sampled_from(["start", "pause", "finish"])),
                           T0 + timedelta(seconds=draw(st.integers(0, 86_400))),
                           D(draw(st.integers(0, 50))), D(draw(st.integers(0, 5)))) for i in range(count)]


@given(shifts(), st.randoms(use_true_random=False))
def test_the_arrival_order_does_not_matter(reports, random):
    shuffled = list(reports)
    random.shuffle(shuffled)
    assert summarize(shuffled) == summarize(reports)


@given(shifts())
def test_hours_are_per_operator_and_bounded_by_their_span(reports):
    total = worked_microseconds(reports)
    by_operator = {}
    for report in reports:
        by_operator.setdefault(report.operator, []).append(report)
    assert total == sum(worked_microseconds(mine) for mine in by_operator.values())
    for mine in by_operator.values():
        span = max(r.occurred_at for r in mine) - min(r.occurred_at for r in mine)
        assert 0 <= worked_microseconds(mine) <= span // timedelta(microseconds=1)
    summary = summarize(reports)
    assert summary.good_quantity == sum((r.good_quantity for r in reports), D(0))
    assert summary.worked_hours == hours(total)


@given(st.lists(st.integers(1, 7200), min_size=2, max_size=12).map(sorted))
def test_alternating_start_and_stop_sums_the_intervals_exactly(seconds):
    seconds = sorted(set(seconds))
    if len(seconds) % 2:
        seconds = seconds[:-1]
    reports = [OperationEvent(f"r{i:03d}", "张三", "start" if i % 2 == 0 else ("pause" if i % 4 == 1 else "finish"),
                              T0 + timedelta(seconds=s)) for i, s in enumerate(seconds)]
    expected = sum(seconds[i + 1] - seconds[i] for i in range(0, len(seconds), 2))
    assert worked_microseconds(reports) == expected * 1_000_000
