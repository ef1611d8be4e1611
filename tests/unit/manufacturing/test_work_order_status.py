"""The work-order state machine (``erp.manufacturing.work_order_status``) and the BOM's: the
transition tables, applied to random sequences of events."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erp.manufacturing import errors
from erp.manufacturing.bom import BOM_TRANSITIONS, bom_transition
from erp.manufacturing.errors import InvalidTransition
from erp.manufacturing.work_order_status import EVENTS, FACTS_FLAGGED, FINAL, STATUSES, TRANSITIONS, allows, transition

events = st.lists(st.sampled_from(EVENTS), max_size=30)


def test_the_happy_path_and_the_two_cancellations():
    status = "planned"
    for event, expected in (("release", "released"), ("start", "in_progress"), ("complete", "completed"),
                            ("close", "closed")):
        status = transition(status, event)
        assert status == expected
    assert transition("planned", "cancel") == "cancelled"
    assert transition("released", "cancel") == "cancelled"


@pytest.mark.parametrize("status", ["in_progress", "completed", "closed", "cancelled"])
def test_an_order_that_started_or_ended_cannot_be_cancelled(status):
    with pytest.raises(InvalidTransition) as refused:
        transition(status, "cancel")
    assert refused.value.code == errors.INVALID_TRANSITION
    assert refused.value.details == {"status": status, "event": "cancel"}


def test_the_table_is_closed_and_its_final_states_are_closed_and_cancelled():
    assert set(TRANSITIONS) == set(STATUSES)
    assert all(target in STATUSES and event in EVENTS for edges in TRANSITIONS.values()
               for event, target in edges.items())
    assert FINAL == {"closed", "cancelled"}
    # Facts are flagged exactly where the order is not (yet, or any more) on the floor.
    assert set(FACTS_FLAGGED) == {"planned", "cancelled", "closed"}


@given(events)
def test_a_sequence_of_events_follows_the_table_and_refuses_the_rest(sequence):
    status = "planned"
    path = [status]
    for event in sequence:
        if allows(status, event):
            status = transition(status, event)
            path.append(status)
        else:
            with pytest.raises(InvalidTransition):
                transition(status, event)  # never skipped silently
    # Each step taken is an edge of the table; nothing leaves a final state.
    for before, after in zip(path, path[1:]):
        assert after in TRANSITIONS[before].values()
        assert before not in FINAL
    # The states are ordered: an order never goes back.
    order = {"planned": 0, "released": 1, "in_progress": 2, "completed": 3, "closed": 4, "cancelled": 4}
    assert all(order[a] < order[b] for a, b in zip(path, path[1:]))
    # Cancelled only from planned or released.
    for before, after in zip(path, path[1:]):
        if after == "cancelled":
            assert before in ("planned", "released")


@given(st.lists(st.sampled_from(["release", "obsolete", "edit"]), max_size=10))
def test_a_bom_goes_draft_released_obsolete_and_never_back(sequence):
    status = "draft"
    for event in sequence:
        if event in BOM_TRANSITIONS[status]:
            after = bom_transition(status, event)
            assert ["draft", "released", "obsolete"].index(after) == ["draft", "released", "obsolete"].index(status) + 1
            status = after
        else:
            with pytest.raises(InvalidTransition):
                bom_transition(status, event)
