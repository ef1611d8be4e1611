"""Problem details (RFC 9457) as the server sends them, with Jiangcheng's extension members.

``type`` is ``urn:jcerp:error:<code>``; ``code`` repeats the stable code for easy matching and
``details`` carries machine-readable context (for a gap: the expected sequence).
"""

from __future__ import annotations

from typing import Any

import msgspec

PROBLEM_JSON = "application/problem+json"


def problem_type(code: str) -> str:
    return f"urn:jcerp:error:{code}"


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str | None = None
    code: str | None = None
    details: dict[str, Any] = {}
