"""The work-order state machine: a pure transition table and the one function that applies it.

States and events::

    planned ──release──▶ released ──start──▶ in_progress ──complete──▶ completed ──close──▶ closed
       │                    │
       └──cancel──▶ cancelled ◀──cancel──┘

- ``release``, ``cancel`` and ``close`` are decisions made at HQ (or by a supervisor), checked
  against the server's current state: a forbidden one is refused with
  ``manufacturing.invalid_transition``, never skipped silently.
- ``start`` and ``complete`` follow from physical facts: the first material issue, operation
  report or completion of a released order starts it; completing its planned quantity (or
  ``finish_work_order``) completes it.
- A physical fact recorded against an order that is not open for it (planned, cancelled,
  closed) is still applied, changes no state, and raises a work-order exception for review
  (``work_order_exception.py``): the goods did move, the hours were worked.

``closed`` and ``cancelled`` are final: no event leaves them.
"""

from __future__ import annotations

from erp.manufacturing.errors import InvalidTransition

STATUSES = ("planned", "released", "in_progress", "completed", "closed", "cancelled")
EVENTS = ("release", "start", "complete", "close", "cancel")

TRANSITIONS: dict[str, dict[str, str]] = {
    "planned": {"release": "released", "cancel": "cancelled"},
    "released": {"start": "in_progress", "cancel": "cancelled"},
    "in_progress": {"complete": "completed"},
    "completed": {"close": "closed"},
    "closed": {},
    "cancelled": {},
}

FINAL = frozenset(status for status, events in TRANSITIONS.items() if not events)

# Where physical facts (issues, returns, reports, completions) are expected. In any other state
# they are applied and flagged; the value is the exception kind they raise there.
FACTS_FLAGGED = {"planned": "before_release", "cancelled": "after_cancel", "closed": "after_close"}


def transition(status: str, event: str) -> str:
    """The state after ``event`` in ``status``; ``InvalidTransition`` if the table has no such edge."""
    target = TRANSITIONS.get(status, {}).get(event)
    if target is None:
        raise InvalidTransition(f"a work order that is {status} cannot {event}", status=status, event=event)
    return target


def allows(status: str, event: str) -> bool:
    return event in TRANSITIONS.get(status, {})
