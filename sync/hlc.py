"""Hybrid logical clock: when something happened on a device, robust to clock drift.

The server's change sequence orders cursors; the HLC only records causality and wall time
of device actions. Invariants: a clock never goes backwards, even if the wall clock does;
``receive`` makes the local clock exceed every timestamp it has seen.

Text form ``<physical ms, 15 digits>-<counter, 5 digits>-<node>`` sorts lexicographically
in timestamp order, so databases can index and compare it as plain text. The counter never
exceeds ``MAX_COUNTER``: past it the clock borrows the next millisecond, as bounded HLCs do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


MAX_COUNTER = 99_999


@dataclass(frozen=True, order=True)
class Timestamp:
    physical_ms: int
    counter: int
    node: str

    def text(self) -> str:
        return f"{self.physical_ms:015d}-{self.counter:05d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> "Timestamp":
        physical, counter, node = text.split("-", 2)
        return cls(int(physical), int(counter), node)


class HybridLogicalClock:
    """One node's clock. ``now_ms`` is injectable so tests can drift it."""

    def __init__(self, node: str, now_ms: Callable[[], int] | None = None) -> None:
        self.node = node
        self._now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self._last = Timestamp(0, 0, node)

    def _bounded(self, physical: int, counter: int) -> Timestamp:
        if counter > MAX_COUNTER:
            physical, counter = physical + 1, 0
        return Timestamp(physical, counter, self.node)

    def tick(self) -> Timestamp:
        """A timestamp for a local event, greater than any issued or received before."""
        wall = self._now_ms()
        if wall > self._last.physical_ms:
            self._last = Timestamp(wall, 0, self.node)
        else:
            self._last = self._bounded(self._last.physical_ms, self._last.counter + 1)
        return self._last

    def receive(self, remote: Timestamp) -> Timestamp:
        """Merge a timestamp from another node, then tick."""
        wall = self._now_ms()
        physical = max(wall, self._last.physical_ms, remote.physical_ms)
        if physical == self._last.physical_ms == remote.physical_ms:
            counter = max(self._last.counter, remote.counter) + 1
        elif physical == self._last.physical_ms:
            counter = self._last.counter + 1
        elif physical == remote.physical_ms:
            counter = remote.counter + 1
        else:
            counter = 0
        self._last = self._bounded(physical, counter)
        return self._last
