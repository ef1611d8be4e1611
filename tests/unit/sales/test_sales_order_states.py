"""The sales-order and quotation state machines, and the delivering state derived from lines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erp.sales import quotation, sales_order
from erp.sales.sales_order import (
    DECIDED_FROM, DELIVERING_STATES, TRANSITIONS, decided_order_state, order_state, status_from_lines,
)
from erp.sales.states import TransitionForbidden

quantities = st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False, allow_infinity=False)
lines = st.lists(st.fixed_dictionaries({"quantity": quantities.filter(lambda q: q > 0),
                                        "delivered_quantity": quantities}), min_size=1, max_size=6)


@pytest.mark.parametrize("machine", [sales_order, quotation], ids=["sales order", "quotation"])
def test_every_decision_is_a_transition_and_the_end_states_are_final(machine):
    for decision, sources in machine.DECIDED_FROM.items():
        for source in sources:
            assert decision in machine.TRANSITIONS[source]
    for state, targets in machine.TRANSITIONS.items():
        assert targets <= set(machine.TRANSITIONS), state
    finals = {state for state, targets in machine.TRANSITIONS.items() if not targets}
    expected = {"closed", "cancelled"} if machine is sales_order else {"accepted", "rejected", "expired"}
    assert finals == expected


@pytest.mark.parametrize("current", sorted(TRANSITIONS))
@pytest.mark.parametrize("decision", sorted(DECIDED_FROM))
def test_a_decision_is_taken_only_from_its_states(current, decision):
    if current in DECIDED_FROM[decision]:
        assert decided_order_state(current, decision) == decision
    else:
        with pytest.raises(TransitionForbidden) as refused:
            decided_order_state(current, decision)
        assert f"a {current} sales order cannot become {decision}" == str(refused.value)


def test_an_order_with_deliveries_cannot_be_cancelled_only_closed():
    # Cancelling is possible only before anything could be delivered against a confirmed order.
    assert DECIDED_FROM["cancelled"] == {"draft", "confirmed"}
    assert DECIDED_FROM["closed"] == {"partially_delivered", "delivered"}
    with pytest.raises(TransitionForbidden):
        decided_order_state("partially_delivered", "cancelled")


@given(lines=lines, current=st.sampled_from(sorted(DELIVERING_STATES)))
def test_deliveries_can_always_move_a_delivering_order_where_its_lines_say_or_leave_it(lines, current):
    target = status_from_lines(lines)
    assert target in DELIVERING_STATES
    order = ["confirmed", "partially_delivered", "delivered"]
    if order.index(target) >= order.index(current):
        assert order_state(current, target) == target  # never TransitionForbidden going forward
    assert (target == "delivered") == all(line["delivered_quantity"] >= line["quantity"] for line in lines)
    assert (target == "confirmed") == all(line["delivered_quantity"] == 0 for line in lines)


@given(lines=lines, extra=quantities.filter(lambda q: q > 0))
def test_delivering_more_never_moves_an_order_back(lines, extra):
    order = ["confirmed", "partially_delivered", "delivered"]
    before = status_from_lines(lines)
    more = [{**lines[0], "delivered_quantity": lines[0]["delivered_quantity"] + extra}, *lines[1:]]
    after = status_from_lines(more)
    assert order.index(after) >= order.index(before)
    assert order_state(before, after) == after


def test_a_delivered_order_only_closes():
    assert TRANSITIONS["delivered"] == {"closed"}
    with pytest.raises(TransitionForbidden):
        order_state("delivered", "partially_delivered")
    assert status_from_lines([{"quantity": Decimal(5), "delivered_quantity": Decimal(7)}]) == "delivered"


@pytest.mark.parametrize("current", sorted(quotation.TRANSITIONS))
@pytest.mark.parametrize("decision", sorted(quotation.DECIDED_FROM))
def test_a_quotation_decision_is_taken_only_from_its_states(current, decision):
    if current in quotation.DECIDED_FROM[decision]:
        assert quotation.quotation_state(current, decision) == decision
    else:
        with pytest.raises(TransitionForbidden):
            quotation.quotation_state(current, decision)
