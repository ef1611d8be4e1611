"""Write audit entries: in the caller's transaction, chained onto the head under its lock.

Callers record in the same transaction as the change the entry describes, so an entry exists
exactly when the change committed; events with no change of their own (a failed sign-in, a
refused HQ command) are recorded in a transaction of their own.

Invariants:
- One call reads and locks the chain head once, links every entry in Python
  (``chain.link``), inserts them with one ``executemany`` and moves the head: three statements
  whatever the number of entries, so a push of 1,000 mutations pays for 1,000 hashes, not for
  1,000 round trips.
- Record last in a transaction. The head lock is then the last lock it takes: the push and HQ
  transactions take the change clock's first, so the two are always taken in one order and
  never deadlock, and the head is held only for the few statements at the end.
- Text is made storable before it is hashed (U+0000 removed, clipped to its column), so what
  is stored is what the hash covers, and a hostile sign-in name cannot fail the write.
- A missing head row is an error: nothing audited is written without its entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from sqlalchemy import Connection, insert, select, update

from erp.access.audit_log import audit_chain_head, audit_log
from server.audit.chain import Entry, canonical_json, link
from sync.errors import JcerpError

HEAD_ID = 1
_LIMITS = {name: audit_log.c[name].type.length
           for name in ("action", "actor", "device_id", "site_id", "source", "subject")}


@dataclass(frozen=True)
class Event:
    """Something to record: who (``actor``), on which device, where from, what."""

    action: str  # stable dotted name: auth.login, admin.user_updated, mutation.applied...
    actor: str | None = None  # user name
    device_id: str | None = None
    site_id: str | None = None
    source: str | None = None  # client address, or "device:<id>"
    subject: str | None = None  # what it is about: user id, "<device>:<seq>"...
    detail: Mapping[str, Any] = field(default_factory=dict)  # plain JSON values, never secrets


class AuditHeadMissing(JcerpError):
    """The chain head row is gone: the database was not migrated, or was tampered with. The
    change that was to be recorded is refused with it (500), since it cannot be recorded."""

    code = "audit.chain_head_missing"
    http_status = 500


def source_of(request: Any) -> str | None:
    """The client address of an HTTP request, as the audit log's ``source``."""
    client = getattr(request, "client", None)
    return client.host if client else None


def device_source(device_id: str) -> str:
    return f"device:{device_id}"


def _storable(value: str | None, limit: int) -> str | None:
    if value is None or (len(value) <= limit and "\x00" not in value and value.isascii()):
        return value
    value = value.replace("\x00", "")[:limit]
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _entry(event: Event, at: datetime) -> Entry:
    return Entry(
        seq=0, at=at, action=_storable(event.action, _LIMITS["action"]),
        actor=_storable(event.actor, _LIMITS["actor"]), device_id=_storable(event.device_id, _LIMITS["device_id"]),
        site_id=_storable(event.site_id, _LIMITS["site_id"]), source=_storable(event.source, _LIMITS["source"]),
        subject=_storable(event.subject, _LIMITS["subject"]), detail_json=canonical_json(dict(event.detail)),
    )


def record_many(conn: Connection, events: Sequence[Event], *, at: datetime | None = None) -> list[Entry]:
    """Append ``events`` in order, in the caller's transaction. Returns the stored entries."""
    if not events:
        return []
    at = at or datetime.now(timezone.utc)
    head = conn.execute(
        select(audit_chain_head.c.seq, audit_chain_head.c.hash).where(audit_chain_head.c.id == HEAD_ID)
        .with_for_update()
    ).first()
    if head is None:
        raise AuditHeadMissing("the audit chain head is missing; run the migrations (jcerp server migrate)")
    entries = link(head.seq, head.hash, [_entry(event, at) for event in events])
    conn.execute(insert(audit_log), [
        {"seq": e.seq, "at": e.at, "action": e.action, "actor": e.actor, "device_id": e.device_id,
         "site_id": e.site_id, "source": e.source, "subject": e.subject, "detail_json": e.detail_json,
         "prev_hash": e.prev_hash, "hash": e.hash}
        for e in entries
    ])
    conn.execute(update(audit_chain_head).where(audit_chain_head.c.id == HEAD_ID)
                 .values(seq=entries[-1].seq, hash=entries[-1].hash))
    return entries


def record(conn: Connection, *, action: str, actor: str | None = None, device_id: str | None = None,
           site_id: str | None = None, source: str | None = None, subject: str | None = None,
           detail: Mapping[str, Any] | None = None, at: datetime | None = None) -> Entry:
    """Append one entry in the caller's transaction."""
    event = Event(action, actor, device_id, site_id, source, subject, detail or {})
    return record_many(conn, [event], at=at)[0]
