"""The seeded fault schedule: which fault, if any, the proxy applies to each HTTP exchange.

Invariants:
- Decisions depend only on the seed and on the order in which exchanges are decided: every
  decided exchange consumes exactly four draws from one ``random.Random(seed)``, whatever the
  outcome, so the same seed and the same sequence of requests give the same faults.
- Exchanges that are not subject to faults (schedule disabled, path outside ``paths``) consume
  no draws and are not logged, so switching faults off for a catch-up phase does not shift the
  decisions of a replay.
- Every decided exchange is appended to ``log`` with its index, method, path and parameters.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import Enum


class Fault(str, Enum):
    NONE = "none"
    DROP_REQUEST = "drop_request"  # close the client connection; the server never sees the request
    DROP_RESPONSE = "drop_response"  # the server answers in full; the client never hears it
    DELAY = "delay"  # hold the request for a bounded time, then forward it normally
    DUPLICATE = "duplicate"  # send the request upstream twice, return the second answer
    REORDER = "reorder"  # hold the request until another exchange overtakes it (bounded)
    CUT_REQUEST = "cut_request"  # forward part of the request bytes, then close both sides
    CUT_RESPONSE = "cut_response"  # forward part of the response bytes, then close the client

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class FaultPlan:
    """Probability of each fault per exchange; the rest of the mass is a clean pass-through.

    ``cut`` is split between cutting the request and cutting the response by ``cut_request_share``.
    """

    drop_request: float = 0.05
    drop_response: float = 0.05
    duplicate: float = 0.05
    delay: float = 0.1
    cut: float = 0.05
    reorder: float = 0.05
    max_delay: float = 0.2  # seconds; delays are drawn uniformly in [0, max_delay]
    max_hold: float = 0.2  # seconds a reordered request waits at most for another to overtake it (≤ 2)
    cut_request_share: float = 0.5  # of the cuts, the share that cuts the request (the rest: the response)
    paths: tuple[str, ...] = ("/",)  # only requests whose path starts with one of these are faulted

    def __post_init__(self) -> None:
        weights = (self.drop_request, self.drop_response, self.duplicate, self.delay, self.cut, self.reorder)
        if any(w < 0 for w in weights) or sum(weights) > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities must be ≥ 0 and sum to at most 1, got {weights}")
        # A hold ends as soon as another exchange overtakes it, so only a hold nothing overtakes
        # lasts its maximum: that one may be longer, for a test that needs the overtaking to happen.
        if not (0 <= self.max_delay <= 0.2 and 0 <= self.max_hold <= 2.0):
            raise ValueError("delays are bounded by 200 ms and holds by 2 s, so that a faulty run stays fast")

    @classmethod
    def quiet(cls) -> "FaultPlan":
        return cls(drop_request=0, drop_response=0, duplicate=0, delay=0, cut=0, reorder=0)

    @classmethod
    def only(cls, fault: Fault, probability: float = 1.0, **options: float) -> "FaultPlan":
        """A plan with a single fault kind (``cut_request``/``cut_response`` map to ``cut``)."""
        name = {Fault.CUT_REQUEST: "cut", Fault.CUT_RESPONSE: "cut"}.get(fault, fault.value)
        side = {Fault.CUT_REQUEST: {"cut_request_share": 1.0}, Fault.CUT_RESPONSE: {"cut_request_share": 0.0}}
        return cls(**{**vars(cls.quiet()), name: probability, **side.get(fault, {}), **options})


@dataclass
class Decision:
    index: int  # position among decided exchanges, from 0
    method: str
    path: str
    fault: Fault
    delay: float = 0.0  # seconds, for DELAY
    fraction: float = 0.0  # for cuts: share of the bytes forwarded before the close
    note: str = ""  # what the proxy actually did, when it differs from the plain fault (set by the proxy)

    def __str__(self) -> str:
        extra = ""
        if self.fault is Fault.DELAY:
            extra = f" {self.delay * 1000:.0f}ms"
        elif self.fault in (Fault.CUT_REQUEST, Fault.CUT_RESPONSE):
            extra = f" at {self.fraction:.2f}"
        if self.note:
            extra += f" ({self.note})"
        return f"#{self.index} {self.method} {self.path}: {self.fault}{extra}"


@dataclass
class Schedule:
    seed: int
    plan: FaultPlan = field(default_factory=FaultPlan)
    enabled: bool = True
    log: list[Decision] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()  # decisions may be taken while a test thread reads the log

    def decide(self, method: str, path: str) -> Decision:
        with self._lock:
            if not self.enabled or not path.startswith(self.plan.paths):
                return Decision(-1, method, path, Fault.NONE)
            # Always four draws, so that the outcome of one exchange never shifts the next ones.
            kind, side, amount, fraction = (self._rng.random() for _ in range(4))
            plan = self.plan
            fault = Fault.NONE
            threshold = 0.0
            for probability, candidate in (
                (plan.drop_request, Fault.DROP_REQUEST), (plan.drop_response, Fault.DROP_RESPONSE),
                (plan.duplicate, Fault.DUPLICATE), (plan.delay, Fault.DELAY),
                (plan.cut, Fault.CUT_REQUEST if side < plan.cut_request_share else Fault.CUT_RESPONSE), (plan.reorder, Fault.REORDER),
            ):
                threshold += probability
                if kind < threshold:
                    fault = candidate
                    break
            decision = Decision(len(self.log), method, path, fault,
                                delay=round(amount * plan.max_delay, 4) if fault is Fault.DELAY else 0.0,
                                fraction=fraction if fault in (Fault.CUT_REQUEST, Fault.CUT_RESPONSE) else 0.0)
            self.log.append(decision)
            return decision

    def faults(self) -> list[Decision]:
        """The decided exchanges that did something other than pass through."""
        with self._lock:
            return [d for d in self.log if d.fault is not Fault.NONE]

    def replay_text(self) -> str:
        with self._lock:
            lines = [f"seed={self.seed} plan={self.plan}"] + [str(d) for d in self.log if d.fault is not Fault.NONE]
        return "\n".join(lines)
