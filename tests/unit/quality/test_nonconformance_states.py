"""The nonconformance state machine: one way through, no skipping, no way back."""

from __future__ import annotations

import pytest

from erp.quality.nonconformance import TRANSITIONS, TransitionForbidden, transition


def test_the_only_path_is_open_dispositioned_closed():
    assert TRANSITIONS == {"open": {"dispositioned"}, "dispositioned": {"closed"}, "closed": set()}


@pytest.mark.parametrize("current", sorted(TRANSITIONS))
@pytest.mark.parametrize("target", sorted(TRANSITIONS))
def test_a_transition_outside_the_table_raises(current, target):
    if target in TRANSITIONS[current]:
        assert transition(current, target) == target
    else:
        with pytest.raises(TransitionForbidden) as refused:
            transition(current, target)
        assert (refused.value.current, refused.value.target) == (current, target)
