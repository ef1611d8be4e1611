"""The service-ticket state machine and warranty dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erp.sales.states import TransitionForbidden
from erp.service.ticket import DECIDED_FROM, DECISION_TARGET, TRANSITIONS, VISITABLE, after_visit, decided_ticket_state
from erp.service.warranty import MAX_MONTHS, add_months, days_left, in_warranty, warranty_until

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
months = st.integers(min_value=1, max_value=MAX_MONTHS)


def test_every_decision_leads_along_a_transition_and_closed_is_final():
    for decision, sources in DECIDED_FROM.items():
        for source in sources:
            target = DECISION_TARGET[decision]
            assert target == source or target in TRANSITIONS[source], (decision, source)
    assert TRANSITIONS["closed"] == frozenset()
    assert {state for state, targets in TRANSITIONS.items() if not targets} == {"closed"}


@pytest.mark.parametrize("current", sorted(TRANSITIONS))
@pytest.mark.parametrize("decision", sorted(DECIDED_FROM))
def test_a_decision_is_taken_only_from_its_states(current, decision):
    if current in DECIDED_FROM[decision]:
        assert decided_ticket_state(current, decision) == DECISION_TARGET[decision]
    else:
        with pytest.raises(TransitionForbidden):
            decided_ticket_state(current, decision)


@pytest.mark.parametrize("current", sorted(TRANSITIONS))
def test_a_visit_is_never_refused_and_moves_only_open_tickets(current):
    after = after_visit(current)
    assert after == ("visited" if current in VISITABLE else current)


def test_the_main_line_from_complaint_to_closed():
    state = "complaint"
    state = decided_ticket_state(state, "assigned")
    state = after_visit(state)
    state = after_visit(state)  # a second visit
    state = decided_ticket_state(state, "resolved")
    assert decided_ticket_state(state, "reopened") == "assigned"
    assert decided_ticket_state(state, "closed") == "closed"


@given(start=days, n=months)
def test_a_warranty_covers_its_months_from_the_start(start, n):
    until = warranty_until(start, n)
    assert start <= until
    assert 28 * n - 1 <= (until - start).days <= 31 * n
    assert in_warranty(until, start) and in_warranty(until, until) and not in_warranty(until, until + timedelta(days=1))
    assert days_left(until, until) == 0 and days_left(until, start) == (until - start).days
    if n < MAX_MONTHS:
        assert warranty_until(start, n + 1) > until


@given(start=days, n=st.integers(min_value=0, max_value=1200))
def test_adding_months_keeps_the_day_or_takes_the_months_last(start, n):
    later = add_months(start, n)
    assert (later.year * 12 + later.month) - (start.year * 12 + start.month) == n
    assert later.day == start.day or (later.day < start.day and (later + timedelta(days=1)).day == 1)


def test_examples_people_check_by_hand():
    assert warranty_until(date(2025, 3, 15), 12) == date(2026, 3, 14)
    assert warranty_until(date(2024, 1, 31), 1) == date(2024, 2, 28)  # 2024-02-29, the day before
    assert not in_warranty(None, date(2025, 1, 1)) and days_left(None, date(2025, 1, 1)) is None
    with pytest.raises(ValueError):
        warranty_until(date(2025, 1, 1), 0)
