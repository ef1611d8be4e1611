"""The sync client's state machine: what a device is doing about the server right now.

::

    initial ──► bootstrapping ──► syncing ◄──► live
                   ▲     │          ▲  │         │
                   │     ▼          │  ▼         │
                   └── retrying ◄───┴──┴─────────┘
                           │
                           ▼
                         error ──► initial        (a person acted: update, re-enroll)

    Also: initial, bootstrapping and syncing may go straight to error; any state but error
    may go to paused, and paused resumes into syncing or bootstrapping. ``TRANSITIONS``
    below is the authority.

- ``syncing``: pushing pending mutations and pulling patches.
- ``live``: caught up; waiting for a live event or a local mutation.
- ``retrying``: the server was unreachable; waiting out a backoff.
- ``paused``: the user stopped sync; local work goes on.
- ``error``: the server refused in a way retrying cannot fix.

A forbidden transition raises ``IllegalTransition``; it is never skipped silently.
"""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass
from typing import Callable


class SyncState(enum.StrEnum):
    INITIAL = "initial"
    BOOTSTRAPPING = "bootstrapping"
    SYNCING = "syncing"
    LIVE = "live"
    RETRYING = "retrying"
    PAUSED = "paused"
    ERROR = "error"


S = SyncState
TRANSITIONS: dict[SyncState, frozenset[SyncState]] = {
    S.INITIAL: frozenset({S.BOOTSTRAPPING, S.SYNCING, S.RETRYING, S.PAUSED, S.ERROR}),
    S.BOOTSTRAPPING: frozenset({S.SYNCING, S.RETRYING, S.PAUSED, S.ERROR}),
    S.SYNCING: frozenset({S.LIVE, S.RETRYING, S.PAUSED, S.ERROR, S.BOOTSTRAPPING}),
    S.LIVE: frozenset({S.SYNCING, S.RETRYING, S.PAUSED}),
    S.RETRYING: frozenset({S.SYNCING, S.BOOTSTRAPPING, S.PAUSED, S.ERROR}),
    S.PAUSED: frozenset({S.SYNCING, S.BOOTSTRAPPING}),
    S.ERROR: frozenset({S.INITIAL}),
}


class IllegalTransition(RuntimeError):
    pass


@dataclass(frozen=True)
class StateChange:
    previous: SyncState
    current: SyncState
    reason: str
    at: float


class SyncStateMachine:
    def __init__(self, on_change: Callable[[StateChange], None] | None = None) -> None:
        self._state = SyncState.INITIAL
        self._lock = threading.Lock()
        self._on_change = on_change
        self.reason = ""

    @property
    def state(self) -> SyncState:
        return self._state

    def transition(self, target: SyncState, reason: str = "") -> StateChange | None:
        """Move to ``target``; staying in the same state is a no-op that returns None."""
        with self._lock:
            if target == self._state:
                self.reason = reason or self.reason
                return None
            if target not in TRANSITIONS[self._state]:
                raise IllegalTransition(f"{self._state} → {target} is not allowed ({reason})")
            change = StateChange(self._state, target, reason, time.time())
            self._state = target
            self.reason = reason
        if self._on_change is not None:
            self._on_change(change)
        return change


class Backoff:
    """Exponential backoff with full jitter, reset on success."""

    def __init__(self, base: float = 0.5, cap: float = 30.0, rand: Callable[[], float] | None = None) -> None:
        import random

        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rand = rand or random.random

    def next_delay(self) -> float:
        # The exponent stops growing once the cap is reached, so a days-long outage cannot
        # overflow the float arithmetic.
        delay = min(self.cap, self.base * (2 ** min(self.attempt, 32)))
        self.attempt = min(self.attempt + 1, 32)
        return delay * (0.5 + self._rand() / 2)

    def reset(self) -> None:
        self.attempt = 0
