"""The purchase-order state machine and the receiving state derived from line quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erp.purchasing.purchase_order import (
    DECIDED_FROM, RECEIVING_STATES, TRANSITIONS, TransitionForbidden, change_state, decided_state, status_from_lines,
)

quantities = st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False, allow_infinity=False)
lines = st.lists(st.fixed_dictionaries({"quantity": quantities.filter(lambda q: q > 0), "received_quantity": quantities,
                                        "returned_quantity": quantities}), min_size=1, max_size=6)


def test_every_decision_is_a_transition_and_the_end_states_are_final():
    for decision, sources in DECIDED_FROM.items():
        for source in sources:
            assert decision in TRANSITIONS[source]
    assert TRANSITIONS["closed"] == TRANSITIONS["cancelled"] == frozenset()
    assert set(TRANSITIONS) == {"draft", "approved", "partially_received", "received", "closed", "cancelled"}


@pytest.mark.parametrize("current", sorted(TRANSITIONS))
@pytest.mark.parametrize("decision", sorted(DECIDED_FROM))
def test_a_decision_is_taken_only_from_its_states(current, decision):
    if current in DECIDED_FROM[decision]:
        assert decided_state(current, decision) == decision
    else:
        with pytest.raises(TransitionForbidden):
            decided_state(current, decision)


@given(lines=lines, current=st.sampled_from(sorted(RECEIVING_STATES)))
def test_receipts_can_always_move_a_receiving_order_where_its_lines_say(lines, current):
    target = status_from_lines(lines)
    assert target in RECEIVING_STATES
    assert change_state(current, target) == target  # never TransitionForbidden
    nets = [line["received_quantity"] - line["returned_quantity"] for line in lines]
    assert (target == "received") == all(net >= line["quantity"] for net, line in zip(nets, lines))
    assert (target == "approved") == all(net <= 0 for net in nets)


@given(lines=lines)
def test_receiving_more_never_moves_an_order_back(lines):
    order = ["approved", "partially_received", "received"]
    before = status_from_lines(lines)
    more = [{**lines[0], "received_quantity": lines[0]["received_quantity"] + Decimal(1)}, *lines[1:]]
    assert order.index(status_from_lines(more)) >= order.index(before)
