"""Reads of the audit log for the HQ API: filtered pages, and the chain walk behind verify.

Invariants:
- Pages run oldest first, by ``seq``; ``next_after_seq`` continues exactly where a page ended,
  so following it from ``after_seq=0`` reads every matching entry once, and a reader can tail
  the log by keeping the last ``seq`` it saw.
- Verification reads the head and every entry in one snapshot (the caller's read
  transaction), in pages of ``VERIFY_PAGE`` rows, so memory stays flat however long the log is.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterator

import msgspec
from sqlalchemy import Connection, select

from erp.access.audit_log import audit_chain_head, audit_log
from server.audit.chain import Entry, check
from server.audit.recorder import HEAD_ID

VERIFY_PAGE = 5000


class AuditEntryView(msgspec.Struct):
    seq: int
    at: datetime
    action: str
    actor: str | None
    device_id: str | None
    site_id: str | None
    source: str | None
    subject: str | None
    # The details as stored; ``canonical_json(detail)`` gives back the exact text the hash covers.
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(msgspec.Struct):
    items: list[AuditEntryView]
    next_after_seq: int | None  # pass as ``after_seq`` for the next page; None on the last page


class ChainVerification(msgspec.Struct):
    ok: bool
    entries_checked: int
    first_broken_seq: int | None  # where the chain breaks: a changed row, or the first missing one
    last_seq: int  # the last entry that verified (all of them when ok)
    last_hash: str  # its hash: keep it elsewhere to detect a later rewrite of everything before it


def list_entries(
    conn: Connection, *, action: str | None = None, actor: str | None = None, device_id: str | None = None,
    site_id: str | None = None, subject: str | None = None, since: datetime | None = None,
    until: datetime | None = None, after_seq: int = 0, limit: int = 100,
) -> AuditPage:
    """Entries oldest first. ``action`` is a name (``auth.login``) or a family (``auth.*``)."""
    query = select(audit_log).where(audit_log.c.seq > after_seq).order_by(audit_log.c.seq).limit(limit + 1)
    if action is not None:
        if action.endswith(".*"):
            query = query.where(audit_log.c.action.startswith(action[:-1], autoescape=True))
        else:
            query = query.where(audit_log.c.action == action)
    for column, value in ((audit_log.c.actor, actor), (audit_log.c.device_id, device_id),
                          (audit_log.c.site_id, site_id), (audit_log.c.subject, subject)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    rows = conn.execute(query).all()
    items = [
        AuditEntryView(r.seq, r.at, r.action, r.actor, r.device_id, r.site_id, r.source, r.subject,
                       json.loads(r.detail_json), r.prev_hash, r.hash)
        for r in rows[:limit]
    ]
    return AuditPage(items, items[-1].seq if len(rows) > limit else None)


def _stored_entries(conn: Connection, page: int) -> Iterator[Entry]:
    after = 0
    while True:
        rows = conn.execute(select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
                            .limit(page)).all()
        for r in rows:
            yield Entry(r.seq, r.at, r.action, r.actor, r.device_id, r.site_id, r.source, r.subject,
                        r.detail_json, r.prev_hash, r.hash)
        if len(rows) < page:
            return
        after = rows[-1].seq


def verify_chain(conn: Connection, *, page: int = VERIFY_PAGE) -> ChainVerification:
    """Walk the whole log against the head; the first break, if any."""
    head = conn.execute(select(audit_chain_head.c.seq, audit_chain_head.c.hash)
                        .where(audit_chain_head.c.id == HEAD_ID)).first()
    result = check(_stored_entries(conn, page), head=(head.seq, head.hash) if head else None)
    broken = result.first_broken_seq
    if head is None and broken is None:
        # Without the head the end of the log cannot be checked: report it after the last row.
        broken = result.last_seq + 1
    return ChainVerification(broken is None, result.entries_checked, broken, result.last_seq, result.last_hash)
