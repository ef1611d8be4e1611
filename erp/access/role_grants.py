"""The grants of a role as they stand in ``hq_roles``, for checks that run on every request.

Built-in roles are written to ``hq_roles`` at server start, custom roles by administrators, so
the table is the one authority for both. A device's sync scope depends on its role's grants
(``sync/visibility.py``) and is needed on every pull, bootstrap and checksum; ``RoleGrantsCache``
keeps each role's grants for a few seconds so that costs no extra read per request.

Invariants:
- An unknown role grants nothing (deny by default), except a built-in role not yet written,
  which grants what the code says it does.
- A role edited at HQ reaches every device's scope within ``RoleGrantsCache.ttl`` seconds.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Callable

from sqlalchemy import Connection, select

from erp.access.permissions import BUILTIN_BY_CODE
from erp.access.tables import hq_roles


def read_role_grants(conn: Connection, role_code: str) -> frozenset[str]:
    """The grants of ``role_code`` now; empty for an unknown role."""
    text = conn.execute(select(hq_roles.c.grants_json).where(hq_roles.c.code == role_code)).scalar()
    if text is None:
        builtin = BUILTIN_BY_CODE.get(role_code)
        return frozenset(builtin.grants) if builtin is not None else frozenset()
    return frozenset(json.loads(text))


class RoleGrantsCache:
    """Role code → grants, each entry kept ``ttl`` seconds. Thread-safe; reads happen outside it."""

    def __init__(self, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def get(self, role_code: str) -> frozenset[str] | None:
        """The cached grants, or None if missing or older than ``ttl``."""
        with self._lock:
            entry = self._entries.get(role_code)
        if entry is None or self._clock() - entry[0] > self.ttl:
            return None
        return entry[1]

    def put(self, role_code: str, grants: frozenset[str]) -> None:
        with self._lock:
            self._entries[role_code] = (self._clock(), grants)
