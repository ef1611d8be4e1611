"""The one way a sales document changes state: an explicit table of allowed transitions.

Each document type (lead, opportunity, quotation, sales order) declares ``TRANSITIONS``
(state → the states it may move to) and the states each person's decision is taken from;
``change_state`` applies one transition and ``decided_state`` one decision, raising
``TransitionForbidden`` for anything else — never skipping it silently. Handlers turn that
into a rejection with a stable code (``refuse``), naming the document and its current state.
"""

from __future__ import annotations

from typing import Any, Mapping, NoReturn

from sync.context import MutationContext

Transitions = Mapping[str, frozenset[str]]


class TransitionForbidden(Exception):
    def __init__(self, document: str, current: str, target: str) -> None:
        super().__init__(f"a {current} {document} cannot become {target}")
        self.document, self.current, self.target = document, current, target


def change_state(transitions: Transitions, document: str, current: str, target: str) -> str:
    """The new state, or ``TransitionForbidden``; staying in the same state is no transition."""
    if target != current and target not in transitions[current]:
        raise TransitionForbidden(document, current, target)
    return target


def decided_state(transitions: Transitions, decided_from: Mapping[str, frozenset[str]], document: str,
                  current: str, decision: str) -> str:
    """The state a person's decision leads to, if it may be taken from ``current``."""
    if current not in decided_from[decision]:
        raise TransitionForbidden(document, current, decision)
    return change_state(transitions, document, current, decision)


def refuse(ctx: MutationContext, code: str, label: str, refused: TransitionForbidden, **details: Any) -> NoReturn:
    """Reject a forbidden transition with ``code``, saying which document and why."""
    ctx.reject(code, f"{label}: {refused}", status=refused.current, wanted=refused.target, **details)
