"""Pull: the rows changed in the device's scope since its cursor, from one snapshot.

Cursors are server change versions, opaque to the device except that they only move forward.
A page holds every change with ``cursor < _version <= new cursor``; ``has_more`` asks the device
to pull again from the new cursor. Each row is the latest state of that row; ``deleted`` lists
keys of rows deleted since the cursor.
"""

from __future__ import annotations

from typing import Any

import msgspec

from protocol.base import Message


class PullRequest(Message, tag="pull"):
    protocol_version: int
    schema_version: int
    device_id: str
    site_id: str  # the scope the device believes it has; must match its enrollment
    cursor: int
    limit: int = 5000  # soft cap on rows per page; one commit is never split


class TablePatch(msgspec.Struct, kw_only=True, omit_defaults=True):
    table: str
    columns: list[str]
    rows: list[list[Any]] = []
    deleted: list[list[Any]] = []  # primary-key values of deleted rows


class PullResponse(Message, tag="patch"):
    cursor: int
    last_applied_seq: int
    has_more: bool
    tables: list[TablePatch]
