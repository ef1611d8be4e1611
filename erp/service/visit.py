"""Service visits (上门服务记录): a technician was at the customer's, and what was done.

A visit is a physical fact recorded on the device of the service office that made it, offline
too. ``service_visits`` is an append-only ledger: a visit is never changed, a wrong one is
corrected by another visit that says so. Recording a visit is never refused for the ticket's
state; it moves a ``complaint`` or ``assigned`` ticket to ``visited`` (ticket.py), and leaves a
resolved or closed ticket as it is.

Invariants:
- Appended once per visit id (a replay appends nothing); ``site_id`` is the ticket's site.
- ``visited_at`` is when the technician was there (device time, UTC); ``hlc`` orders it among
  the device's other actions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from erp.service import errors
from erp.service.ticket import after_visit, require_ticket, service_tickets
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

OUTCOMES = ("fixed", "needs_parts", "needs_another_visit", "not_reproducible", "replaced")

service_visits = Table(
    "service_visits",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("ticket_id", ID, nullable=False, index=True),
    Column("visited_at", UtcDateTime, nullable=False),
    Column("technician", String(120), nullable=False),
    Column("work_done", Text, nullable=False),
    Column("outcome", String(24), nullable=False),  # one of OUTCOMES
    Column("device_id", ID),
    Column("seq", BigInteger),
    Column("hlc", String(64), nullable=False),
    Column("user_name", String(120)),
    version_column(),
    Index("ix_service_visits_site_key", "site_id", "id"),
)


class RecordVisit(msgspec.Struct, frozen=True):
    visit_id: str
    ticket_id: str
    visited_at: UtcMoment
    technician: str
    work_done: str
    outcome: str = "fixed"


@mutation("service.record_visit", 1, RecordVisit)
def record_visit(ctx: MutationContext, args: RecordVisit) -> None:
    """A technician visited the customer for a ticket."""
    ticket = require_ticket(ctx, args.ticket_id)
    if not args.technician.strip():
        ctx.reject(errors.NO_TECHNICIAN, "name the technician who went")
    if args.outcome not in OUTCOMES:
        ctx.reject(errors.UNKNOWN_OUTCOME,
                   f"the outcome is one of {', '.join(OUTCOMES)}", outcome=args.outcome)
    if not ctx.insert_ledger(service_visits, {
        "id": args.visit_id, "site_id": ticket["site_id"], "ticket_id": ticket["id"], "visited_at": args.visited_at,
        "technician": args.technician, "work_done": args.work_done, "outcome": args.outcome,
        "device_id": ctx.ref.device_id, "seq": ctx.ref.seq if ctx.ref.device_id else None, "hlc": ctx.ref.hlc,
        "user_name": ctx.actor.user,
    }):
        return
    target = after_visit(ticket["status"])
    if target != ticket["status"]:
        ctx.update(service_tickets, {"id": ticket["id"]}, {"status": target}, current=ticket)
