"""The credit check: pure, property-tested."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from erp.sales.credit_limit import amount_problem, check_credit, credit_limit_problem, open_line_value, order_value

money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
limits = st.one_of(st.none(), money)


@given(limit=limits, open_value=money, new=money)
def test_allowed_exactly_within_the_limit_and_the_excess_is_what_is_beyond_it(limit, open_value, new):
    decision = check_credit(limit, open_value, new)
    assert decision.exposure == open_value + new
    if limit is None:
        assert decision.allowed and decision.excess == 0
    else:
        assert decision.allowed == (open_value + new <= limit)
        assert decision.excess == max(open_value + new - limit, Decimal(0))


@given(limit=money, orders=st.lists(money, max_size=20))
def test_confirming_one_by_one_never_walks_past_the_limit(limit, orders):
    """Splitting an order into parts does not get more past the check than one order would."""
    open_value = Decimal(0)
    for value in orders:
        if check_credit(limit, open_value, value).allowed:
            open_value += value
        assert open_value <= limit


@given(limit=money, open_value=money, new=money, more=money)
def test_more_never_turns_a_refusal_into_an_acceptance(limit, open_value, new, more):
    if not check_credit(limit, open_value, new).allowed:
        assert not check_credit(limit, open_value, new + more).allowed
        assert not check_credit(limit, open_value + more, new).allowed


quantity = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@given(lines=st.lists(st.tuples(quantity, quantity, money), max_size=8))
def test_an_order_is_worth_what_was_ordered_and_not_returned(lines):
    total = order_value(lines)
    assert total == sum((max(q - r, Decimal(0)) * p for q, r, p in lines), Decimal(0))
    assert total >= 0
    assert all(open_line_value(q, q, p) == 0 for q, _, p in lines)  # all sent back: worth nothing


def test_credit_limits_are_money_to_the_fen():
    assert credit_limit_problem(None) is None
    assert credit_limit_problem(Decimal("50000.00")) is None
    assert credit_limit_problem(Decimal("1.005")) == "a credit limit is counted to the fen (at most 2 decimals)"
    assert credit_limit_problem(Decimal("-1")) is not None
    assert credit_limit_problem(Decimal("NaN")) is not None
    assert amount_problem(Decimal("1.10000"), "an expected value") is None  # trailing zeros are fen too
    assert "an expected value" in amount_problem(Decimal("Infinity"), "an expected value")
