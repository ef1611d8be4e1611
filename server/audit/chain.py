"""The audit log's hash chain: canonical entry bytes, the link hash, and verification.

Pure functions, no I/O: the recorder links new entries with them and the verify API walks
stored ones with them.

Invariants:
- ``entry_bytes`` covers every field of an entry except its two hashes, as canonical JSON
  (sorted keys, no whitespace, UTF-8, non-ASCII as is; times as RFC 3339 UTC text with six
  fraction digits). ``detail_json`` goes in as the text it is stored as, so a change of even
  its spacing shows.
- ``entry_hash(prev, entry)`` = SHA-256 of ``prev`` (64 hex digits) followed by ``entry_bytes``.
  The first entry's ``prev`` is ``GENESIS`` (64 zeros).
- A chain is intact when its seqs run 1, 2, 3... without a gap, each entry's ``prev_hash`` is
  the previous entry's ``hash``, each ``hash`` is recomputed equal, and the last entry is the
  head's (when the head is given). ``check`` reports the first seq where any of that fails:
  a changed row is reported at its own seq, a deleted row at the seq that is missing, rows
  deleted from the end at the seq after the last one left.

What the chain cannot show on its own: someone able to write the database can rewrite every
row from the one they change up to the head. Keep the ``last_hash`` the verify API answers
somewhere else (a ticket, a printout, another system); a later verify whose chain no longer
passes through it shows the rewrite.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Iterable, Sequence

from sync.types import decimal_text, utc_text

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON: put plain values in audit details")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, non-ASCII as is. Text that cannot be UTF-8 (a lone
    surrogate) is replaced, so what is stored is always exactly what is hashed."""
    text = _ENCODER.encode(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


@dataclass(frozen=True)
class Entry:
    """One audit log row; ``prev_hash`` and ``hash`` are empty until it is linked."""

    seq: int
    at: datetime
    action: str
    actor: str | None
    device_id: str | None
    site_id: str | None
    source: str | None
    subject: str | None
    detail_json: str
    prev_hash: str = ""
    hash: str = ""


def _json_text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _canonical(entry: Entry, seq: int, at_text: str) -> bytes:
    # Exactly canonical_json({"action": ..., "actor": ..., "at": at_text, "detail": detail_json,
    # "device_id": ..., "seq": seq, "site_id": ..., "source": ..., "subject": ...}), keys in
    # sorted order, written out because a push hashes up to 1,000 of these in its transaction
    # (tests/unit/audit pins the two forms equal).
    return (f'{{"action":{_json_text(entry.action)},"actor":{_json_text(entry.actor)},"at":"{at_text}",'
            f'"detail":{encode_basestring(entry.detail_json)},"device_id":{_json_text(entry.device_id)},'
            f'"seq":{int(seq)},"site_id":{_json_text(entry.site_id)},"source":{_json_text(entry.source)},'
            f'"subject":{_json_text(entry.subject)}}}').encode("utf-8")


def entry_bytes(entry: Entry) -> bytes:
    """The canonical bytes of an entry: every field but the hashes."""
    return _canonical(entry, entry.seq, utc_text(entry.at))


def entry_hash(prev_hash: str, entry: Entry) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + entry_bytes(entry)).hexdigest()


def link(prev_seq: int, prev_hash: str, entries: Sequence[Entry]) -> list[Entry]:
    """``entries`` numbered from ``prev_seq + 1`` and chained onto ``prev_hash``."""
    linked = []
    at, at_text = None, ""
    for seq, e in enumerate(entries, start=prev_seq + 1):
        if e.at is not at:  # a batch shares one time: format it once
            at, at_text = e.at, utc_text(e.at)
        digest = hashlib.sha256(prev_hash.encode("ascii") + _canonical(e, seq, at_text)).hexdigest()
        linked.append(Entry(seq, e.at, e.action, e.actor, e.device_id, e.site_id, e.source, e.subject,
                            e.detail_json, prev_hash, digest))
        prev_hash = digest
    return linked


@dataclass(frozen=True)
class ChainCheck:
    entries_checked: int
    first_broken_seq: int | None  # None: intact
    last_seq: int  # of the last entry checked (0 if none)
    last_hash: str  # of the last entry checked (GENESIS if none)

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def check(entries: Iterable[Entry], *, head: tuple[int, str] | None = None) -> ChainCheck:
    """Walk ``entries`` (in seq order, from the first) and stop at the first break.

    ``head`` is the chain head's (seq, hash) as stored: without it, rows deleted from the end
    cannot be told from a log that ended there."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for entry in entries:
        checked += 1
        if entry.seq != expected_seq:
            # A missing row (or a renumbered one): the chain breaks where the gap starts.
            return ChainCheck(checked, expected_seq, expected_seq - 1, prev_hash)
        if entry.prev_hash != prev_hash or entry.hash != entry_hash(prev_hash, entry):
            return ChainCheck(checked, entry.seq, expected_seq - 1, prev_hash)
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    last_seq = expected_seq - 1
    if head is not None and (head[0], head[1]) != (last_seq, prev_hash):
        head_seq = head[0]
        if head_seq > last_seq:  # the last rows are gone
            broken = last_seq + 1
        elif head_seq < last_seq:  # rows were added after the head without the head's lock
            broken = head_seq + 1
        else:  # the same length, another last hash: the end was rewritten (or the head was)
            broken = max(last_seq, 1)
        return ChainCheck(checked, broken, last_seq, prev_hash)
    return ChainCheck(checked, None, last_seq, prev_hash)


def verify(entries: Iterable[Entry], *, head: tuple[int, str] | None = None) -> int | None:
    """The first seq at which the chain is broken, or None if it is intact."""
    return check(entries, head=head).first_broken_seq
