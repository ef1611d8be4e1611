"""Checks on decoded wire values that msgspec's types cannot express, made before anything runs.

Invariants: no text value anywhere in a mutation's arguments holds U+0000 (PostgreSQL text
cannot store it, and no business field needs it); every datetime converts to UTC within years
1..9999 (what both databases store). A value that fails is refused with the path to it, so the
whole push is refused (422) and nothing is half-applied.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

import msgspec


def problems_in(value: Any, path: str = "") -> Iterator[str]:
    """Yield a description of every unstorable value inside ``value`` (structs, lists, dicts)."""
    if isinstance(value, str):
        if "\x00" in value:
            yield f"{path or 'value'}: text must not contain U+0000"
    elif isinstance(value, datetime):
        try:
            value.astimezone(timezone.utc)
        except OverflowError:
            yield f"{path or 'value'}: {value.isoformat()} is outside years 1..9999 in UTC"
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            yield from problems_in(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from problems_in(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from problems_in(key, f"{path}{{key}}")
            yield from problems_in(item, f"{path}[{key!r}]")


def first_problem(value: Any) -> str | None:
    return next(problems_in(value), None)
