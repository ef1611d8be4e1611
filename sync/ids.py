"""Row ids: UUIDv7, generated where the row is born (usually on the device).

Time-ordered ids keep B-tree inserts local and let two offline devices create rows that
never collide. Ids travel and are stored as canonical 36-character strings.
"""

from __future__ import annotations

import uuid6


def new_id() -> str:
    """A fresh UUIDv7 as its canonical string."""
    return str(uuid6.uuid7())
