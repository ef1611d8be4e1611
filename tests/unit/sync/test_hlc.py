"""Hybrid logical clock (``sync.hlc``): monotonicity under a drifting wall clock, ``receive``
exceeding every timestamp seen, and the text form (sort order and round trip)."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from sync.hlc import HybridLogicalClock, Timestamp

WALL = st.integers(min_value=0, max_value=10**13)
NODES = st.text(max_size=12)
# The text form reserves 15 digits for the physical part and 5 for the counter.
TIMESTAMPS = st.builds(
    Timestamp,
    physical_ms=st.integers(min_value=0, max_value=10**15 - 1),
    counter=st.integers(min_value=0, max_value=99_999),
    node=NODES,
)


class ScriptedClock:
    """A wall clock that returns the given readings in turn (it may jump backwards)."""

    def __init__(self, readings: list[int]) -> None:
        self.readings = list(readings)
        self.calls = 0

    def __call__(self) -> int:
        value = self.readings[self.calls]
        self.calls += 1
        return value


@given(st.lists(WALL, min_size=1, max_size=60))
def test_tick_is_strictly_increasing_even_when_the_wall_clock_goes_back(readings: list[int]) -> None:
    clock = HybridLogicalClock("dev1", now_ms=ScriptedClock(readings))
    issued = [clock.tick() for _ in readings]
    for earlier, later in zip(issued, issued[1:]):
        assert earlier < later
        assert earlier.text() < later.text()
    for stamp, wall in zip(issued, readings):
        assert stamp.node == "dev1"
        assert stamp.physical_ms >= wall  # never behind the wall clock it read
    assert issued[-1].physical_ms == max(readings)


def test_tick_with_a_clock_that_jumps_back_keeps_the_physical_part_and_counts() -> None:
    clock = HybridLogicalClock("n", now_ms=ScriptedClock([1_000, 400, 400, 1_001]))
    assert clock.tick() == Timestamp(1_000, 0, "n")
    assert clock.tick() == Timestamp(1_000, 1, "n")
    assert clock.tick() == Timestamp(1_000, 2, "n")
    assert clock.tick() == Timestamp(1_001, 0, "n")


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), WALL, st.none()),
        st.tuples(
            st.just("receive"),
            WALL,
            st.builds(
                Timestamp,
                physical_ms=WALL,
                counter=st.integers(min_value=0, max_value=5_000),
                node=NODES,
            ),
        ),
    ),
    min_size=1,
    max_size=40,
)


@given(OPERATIONS)
def test_receive_exceeds_the_previous_local_timestamp_and_the_remote_one(operations) -> None:
    clock = HybridLogicalClock("local", now_ms=ScriptedClock([wall for _, wall, _ in operations]))
    previous = Timestamp(0, 0, "local")
    seen_remote: list[Timestamp] = []
    for kind, _wall, remote in operations:
        if kind == "tick":
            current = clock.tick()
        else:
            current = clock.receive(remote)
            assert current > remote
            assert (current.physical_ms, current.counter) > (remote.physical_ms, remote.counter)
            seen_remote.append(remote)
        assert current > previous
        assert current.node == "local"
        previous = current
    # The clock exceeds every timestamp it has ever received, not only the latest one.
    for remote in seen_remote:
        assert previous > remote


def test_receive_from_a_node_ahead_of_the_wall_clock_adopts_its_physical_time() -> None:
    clock = HybridLogicalClock("a", now_ms=ScriptedClock([100, 100, 100]))
    assert clock.tick() == Timestamp(100, 0, "a")
    merged = clock.receive(Timestamp(5_000, 7, "b"))
    assert merged == Timestamp(5_000, 8, "a")
    assert clock.tick() == Timestamp(5_000, 9, "a")


def test_receive_with_equal_physical_parts_takes_the_larger_counter() -> None:
    clock = HybridLogicalClock("a", now_ms=ScriptedClock([100, 50]))
    assert clock.tick() == Timestamp(100, 0, "a")
    assert clock.receive(Timestamp(100, 41, "b")) == Timestamp(100, 42, "a")


@given(TIMESTAMPS, TIMESTAMPS)
def test_text_sorts_like_the_timestamp(first: Timestamp, second: Timestamp) -> None:
    assert (first < second) == (first.text() < second.text())
    assert (first == second) == (first.text() == second.text())


@given(st.lists(TIMESTAMPS, max_size=30))
def test_sorting_texts_gives_the_timestamp_order(stamps: list[Timestamp]) -> None:
    by_text = sorted(stamps, key=Timestamp.text)
    assert [stamp.text() for stamp in by_text] == [stamp.text() for stamp in sorted(stamps)]


@given(TIMESTAMPS)
def test_parse_round_trips_text(stamp: Timestamp) -> None:
    assert Timestamp.parse(stamp.text()) == stamp


def test_parse_keeps_dashes_in_the_node() -> None:
    stamp = Timestamp(1_700_000_000_000, 3, "0190a1b2-c3d4-7e5f")
    assert stamp.text() == "001700000000000-00003-0190a1b2-c3d4-7e5f"
    assert Timestamp.parse(stamp.text()) == stamp


def test_default_wall_clock_is_milliseconds_since_the_epoch() -> None:
    before = time.time_ns() // 1_000_000
    stamp = HybridLogicalClock("x").tick()
    after = time.time_ns() // 1_000_000
    assert before <= stamp.physical_ms <= after


def test_text_order_survives_a_long_stall_of_the_wall_clock() -> None:
    clock = HybridLogicalClock("dev1", now_ms=lambda: 1_000)
    previous = clock.tick()
    for _ in range(100_000):
        current = clock.tick()
        assert previous < current
        assert previous.text() < current.text()
        previous = current
