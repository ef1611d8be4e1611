"""Rate limits on the endpoints where someone could guess a secret: HQ sign-in, device
enrollment and tablet sign-in.

The account lockout stops guessing one user's password; these limits stop one address from
trying many accounts or many enrollment codes. Litestar's rate-limit middleware does the
counting (a window per client address, in the server process's memory); this module only says
which paths are limited, how much, and how to configure it.

Invariants:
- Each limited endpoint has its own count: many sign-ins never use up enrollments.
- Over the limit, the answer is 429 ``http.rate_limited`` (problem details) with the
  ``RateLimit-*`` headers saying when to try again; the request never reaches the handler.
- ``off`` disables a limit (load tests that enroll hundreds of devices from one address).
- Counts are per server process: with N workers an address gets at most N times the limit.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig

_LIMIT = re.compile(r"^\s*(\d{1,7})\s*/\s*(second|minute|hour|day)\s*$")


@dataclass(frozen=True)
class Limit:
    requests: int
    per: str  # second | minute | hour | day


def parse_limit(text: str) -> Limit | None:
    """``"30/minute"`` → Limit(30, "minute"); ``"off"`` → None. Raises ValueError otherwise."""
    if text.strip().lower() == "off":
        return None
    match = _LIMIT.match(text)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"a rate limit is '<requests>/<second|minute|hour|day>' or 'off', not {text!r}")
    return Limit(int(match.group(1)), match.group(2))


@dataclass(frozen=True)
class RateLimits:
    """The limit of each guarded endpoint (None: unlimited)."""

    sign_in: Limit | None = Limit(30, "minute")  # POST /api/v1/auth/login
    enroll: Limit | None = Limit(60, "minute")  # POST /sync/v1/enroll
    tablet_sign_in: Limit | None = Limit(60, "minute")  # POST /sync/v1/sign-in

    ENV = {"sign_in": "JCERP_RATE_LIMIT_SIGN_IN", "enroll": "JCERP_RATE_LIMIT_ENROLL",
           "tablet_sign_in": "JCERP_RATE_LIMIT_TABLET_SIGN_IN"}
    PATHS = {"sign_in": "/api/v1/auth/login", "enroll": "/sync/v1/enroll", "tablet_sign_in": "/sync/v1/sign-in"}

    @classmethod
    def from_env(cls, environ: Any = None) -> "RateLimits":
        """Defaults, overridden by ``JCERP_RATE_LIMIT_SIGN_IN`` / ``_ENROLL`` / ``_TABLET_SIGN_IN``."""
        environ = os.environ if environ is None else environ
        values = {name: parse_limit(environ[variable]) for name, variable in cls.ENV.items() if variable in environ}
        return cls(**values)

    @classmethod
    def unlimited(cls) -> "RateLimits":
        return cls(sign_in=None, enroll=None, tablet_sign_in=None)

    def middleware(self) -> list[DefineMiddleware]:
        layers = []
        for name, path in self.PATHS.items():
            limit: Limit | None = getattr(self, name)
            if limit is None:
                continue
            layers.append(RateLimitConfig(
                rate_limit=(limit.per, limit.requests),  # type: ignore[arg-type]
                check_throttle_handler=_only(path),
                store=f"rate_limit_{name}",
            ).middleware)
        return layers


def _only(path: str):
    def check(request: Any) -> bool:
        return request.method == "POST" and request.url.path == path

    return check

