"""Push: the device sends pending mutations in sequence order; the server applies each once.

Sequence rules: ``seq`` starts at 1 per device and increases by one. A batch is contiguous and
ascending. Entries at or below the server's ``last_applied_seq`` are acknowledged as
``duplicate`` without running again; a batch that starts after ``last_applied_seq + 1`` is
refused whole (``sync.sequence_gap``, 409). A rejected mutation counts as processed and does
not block the ones behind it.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from protocol.base import Message

MAX_BATCH = 1000


class MutationEnvelope(msgspec.Struct, kw_only=True):
    seq: int
    name: str  # e.g. "inventory.receive"
    version: int  # the mutation's version: name@version picks the handler and argument type
    args: msgspec.Raw  # the arguments, encoded in the body's own encoding
    hlc: str  # hybrid logical clock of the device when the user acted
    user: str | None = None  # who acted on a shared device


class PushRequest(Message, tag="push"):
    protocol_version: int
    schema_version: int
    device_id: str
    mutations: list[MutationEnvelope]


class MutationResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    seq: int
    status: Literal["applied", "rejected", "duplicate"]
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] = {}


class PushResponse(Message, tag="pushed"):
    last_applied_seq: int
    server_version: int  # the change version this push committed (0 if nothing new)
    results: list[MutationResult]
