"""The device's sync state machine (``edge_client.state``): every declared transition is
accepted, every other one raises ``IllegalTransition``, staying put is a no-op, and ``Backoff``
grows exponentially with jitter, caps, and resets."""

from __future__ import annotations

import itertools
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_client.state import (
    TRANSITIONS,
    Backoff,
    IllegalTransition,
    StateChange,
    SyncState,
    SyncStateMachine,
)

ALLOWED = sorted((source, target) for source, targets in TRANSITIONS.items() for target in targets)
FORBIDDEN = sorted(
    (source, target)
    for source, target in itertools.product(SyncState, SyncState)
    if source != target and target not in TRANSITIONS[source]
)


def path_to(target: SyncState) -> list[SyncState]:
    """Shortest chain of allowed transitions from ``initial`` to ``target``."""
    routes: dict[SyncState, list[SyncState]] = {SyncState.INITIAL: []}
    queue = deque([SyncState.INITIAL])
    while queue:
        state = queue.popleft()
        for following in sorted(TRANSITIONS[state]):
            if following not in routes:
                routes[following] = routes[state] + [following]
                queue.append(following)
    return routes[target]


def machine_in(state: SyncState) -> tuple[SyncStateMachine, list[StateChange]]:
    changes: list[StateChange] = []
    machine = SyncStateMachine(on_change=changes.append)
    for step in path_to(state):
        machine.transition(step, f"to {step}")
    assert machine.state is state
    changes.clear()
    return machine, changes


def test_transition_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(SyncState)
    for source, targets in TRANSITIONS.items():
        assert source not in targets
        assert targets <= set(SyncState)
    # Every state can be reached from a fresh machine.
    for state in SyncState:
        assert state is SyncState.INITIAL or path_to(state)
    assert SyncStateMachine().state is SyncState.INITIAL


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{s}->{t}" for s, t in ALLOWED])
def test_every_declared_transition_is_accepted(source: SyncState, target: SyncState) -> None:
    machine, changes = machine_in(source)
    change = machine.transition(target, "because")
    assert isinstance(change, StateChange)
    assert (change.previous, change.current, change.reason) == (source, target, "because")
    assert change.at > 0
    assert machine.state is target
    assert machine.reason == "because"
    assert changes == [change]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{s}->{t}" for s, t in FORBIDDEN])
def test_every_other_transition_raises(source: SyncState, target: SyncState) -> None:
    machine, changes = machine_in(source)
    reason_before = machine.reason
    with pytest.raises(IllegalTransition):
        machine.transition(target, "not allowed")
    assert machine.state is source
    assert machine.reason == reason_before
    assert changes == []


def test_pairs_are_partitioned_into_allowed_and_forbidden() -> None:
    distinct_pairs = len(SyncState) * (len(SyncState) - 1)
    assert len(ALLOWED) + len(FORBIDDEN) == distinct_pairs
    assert not set(ALLOWED) & set(FORBIDDEN)
    assert FORBIDDEN  # the machine does forbid something


@pytest.mark.parametrize("state", list(SyncState))
def test_same_state_is_a_no_op_returning_none(state: SyncState) -> None:
    machine, changes = machine_in(state)
    previous_reason = machine.reason
    assert machine.transition(state) is None
    assert machine.state is state
    assert machine.reason == previous_reason  # an empty reason keeps the last one
    assert machine.transition(state, "still here") is None
    assert machine.reason == "still here"
    assert changes == []


# -- Backoff -----------------------------------------------------------------------------------


def test_backoff_doubles_then_caps() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rand=lambda: 1.0)
    delays = [backoff.next_delay() for _ in range(9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_backoff_jitter_keeps_at_least_half_of_the_delay() -> None:
    backoff = Backoff(base=1.0, cap=10.0, rand=lambda: 0.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_backoff_reset_starts_over() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rand=lambda: 1.0)
    for _ in range(7):
        backoff.next_delay()
    assert backoff.attempt == 7
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.next_delay() == 0.5
    assert backoff.next_delay() == 1.0


@given(
    base=st.floats(min_value=0.01, max_value=5.0),
    cap=st.floats(min_value=0.01, max_value=120.0),
    draws=st.lists(st.floats(min_value=0.0, max_value=1.0, exclude_max=True), min_size=1, max_size=40),
)
def test_backoff_delay_stays_within_the_jittered_envelope(base: float, cap: float, draws: list[float]) -> None:
    supply = iter(draws)
    backoff = Backoff(base=base, cap=cap, rand=lambda: next(supply))
    for attempt, _ in enumerate(draws):
        ceiling = min(cap, base * 2**attempt)
        delay = backoff.next_delay()
        assert ceiling / 2 <= delay <= ceiling
        assert delay <= cap


def test_backoff_keeps_returning_the_cap_during_a_long_outage() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rand=lambda: 1.0)
    for _ in range(1_100):
        assert backoff.next_delay() <= 30.0
