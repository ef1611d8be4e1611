"""After-sales service tickets (售后工单): a customer's complaint, from the call to the closed case.

A ticket belongs to the site whose service office handles it; a branch office opens tickets on
its own device, offline too (the ticket id comes from the device), and records visits against
them (visit.py). States (``TRANSITIONS``; ``change_state`` applies one or raises)::

    complaint ──assign──▶ assigned ──visit──▶ visited ──resolve──▶ resolved ──close──▶ closed

and besides the main line:

    complaint ──visit──▶ visited                 a technician went before anyone assigned it
    complaint, assigned ──resolve──▶ resolved    solved on the phone, or the complaint withdrawn
    visited ──assign──▶ assigned                 handed to another technician
    resolved ──reopen──▶ assigned                the customer calls again

- ``assign``, ``resolve``, ``reopen`` and ``close`` are decisions, checked against the server's
  state: resolving a ticket HQ closed meanwhile is rejected (``service.ticket_closed``).
  Assigning an assigned or visited ticket hands it to another technician.
- A visit is a physical fact: it is always recorded, and moves a ``complaint`` or ``assigned``
  ticket to ``visited``; after ``resolved`` or ``closed`` it is recorded without changing the
  state (the visit list shows it).
- Warranty: the ticket keeps the date its warranty runs until (from the warranty card, or N
  months from the first delivery of the sales order it names, warranty.py) and whether the
  complaint came in under warranty, judged on the day it was opened in Wuhan. A sales order
  the deciding side does not hold gives no date; the server's judgement replaces the device's.

Invariants:
- ``site_id`` and ``customer_id`` never change; ``closed`` is final.
- ``number`` is drawn on the device from its block of the site's series and confirmed, or
  replaced (a provisional number, say), by the server: erp/org/number_series.py.
- ``under_warranty`` ⇔ ``warranty_until`` is set and the opening day is not after it.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any

import msgspec
from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, Text, select

from erp.org.number_series import assign_number
from erp.org.site import sites
from erp.sales.business_day import business_date
from erp.sales.contact import customer_contacts
from erp.sales.customer import require_customer
from erp.sales.delivery import so_deliveries
from erp.sales.states import TransitionForbidden, change_state, refuse
from erp.service import errors
from erp.service.warranty import MAX_MONTHS, in_warranty, warranty_until
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

service_tickets = Table(
    "service_tickets",
    metadata,
    Column("id", ID, primary_key=True),  # from the device that opened it
    # ST-BR1-0001234, from the site's series (erp/org/number_series.py); unique once the server
    # numbered it. NULL only on tickets opened before numbering existed.
    Column("number", String(40), unique=True),
    Column("provisional_number", String(48)),  # what the device showed, when the server replaced it
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),  # the service office handling it
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("contact_id", ID),  # who called, if known
    Column("item_id", ID),  # what failed, if known
    Column("serial_no", String(64)),
    Column("sales_order_id", ID),  # how the customer got it, if known
    Column("complaint", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),  # when the customer complained (device time)
    Column("opened_by", String(120)),
    Column("warranty_until", String(10)),  # ISO 8601 date, inclusive; NULL: no warranty known
    Column("under_warranty", Boolean, nullable=False),  # judged on the day it was opened
    Column("assigned_to", String(120)),  # the technician
    Column("assigned_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("resolution", Text),
    Column("closed_at", UtcDateTime),
    Column("closed_by", String(120)),
    version_column(),
    field_versions_column(),
    Index("ix_service_tickets_site_key", "site_id", "id"),
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "complaint": frozenset({"assigned", "visited", "resolved"}),
    "assigned": frozenset({"visited", "resolved"}),
    "visited": frozenset({"assigned", "resolved"}),
    "resolved": frozenset({"assigned", "closed"}),
    "closed": frozenset(),
}
DECIDED_FROM: dict[str, frozenset[str]] = {
    "assigned": frozenset({"complaint", "assigned", "visited"}),
    "resolved": frozenset({"complaint", "assigned", "visited"}),
    "reopened": frozenset({"resolved"}),
    "closed": frozenset({"resolved"}),
}
# Where a decision leads (a reopened ticket goes back to its technician).
DECISION_TARGET = {"assigned": "assigned", "resolved": "resolved", "reopened": "assigned", "closed": "closed"}
# States a visit moves to ``visited``; in the others a visit is recorded and the state stays.
VISITABLE = frozenset({"complaint", "assigned", "visited"})


def ticket_state(current: str, target: str) -> str:
    return change_state(TRANSITIONS, "service ticket", current, target)


def decided_ticket_state(current: str, decision: str) -> str:
    """The state a decision (``assigned``, ``resolved``, ``reopened``, ``closed``) leads to."""
    if current not in DECIDED_FROM[decision]:
        raise TransitionForbidden("service ticket", current, decision)
    return ticket_state(current, DECISION_TARGET[decision])


def after_visit(current: str) -> str:
    """The state a visit leaves a ticket in."""
    return ticket_state(current, "visited") if current in VISITABLE else current


class OpenTicket(msgspec.Struct, frozen=True):
    ticket_id: str
    site_id: str
    customer_id: str
    complaint: str
    opened_at: UtcMoment
    contact_id: str | None = None
    item_id: str | None = None
    serial_no: str | None = None
    sales_order_id: str | None = None
    warranty_until: date | None = None  # from the warranty card; else from the order's first delivery
    warranty_months: int = 12
    number: str | None = None  # drawn on the device (edge_client/numbering.py); None: the server numbers it


class AssignTicket(msgspec.Struct, frozen=True):
    ticket_id: str
    technician: str


class ResolveTicket(msgspec.Struct, frozen=True):
    ticket_id: str
    resolution: str


class ReopenTicket(msgspec.Struct, frozen=True):
    ticket_id: str
    reason: str = ""


class CloseTicket(msgspec.Struct, frozen=True):
    ticket_id: str


def require_ticket(ctx: MutationContext, ticket_id: str) -> Any:
    ticket = ctx.get(service_tickets, id=ticket_id)
    if ticket is None:
        ctx.reject(errors.UNKNOWN_TICKET, "this service ticket does not exist", ticket_id=ticket_id)
    return ticket


def _first_delivery_day(ctx: MutationContext, order_id: str) -> date | None:
    first = ctx.conn.execute(select(so_deliveries.c.occurred_at)
                             .where(so_deliveries.c.order_id == order_id, so_deliveries.c.kind == "delivery")
                             .order_by(so_deliveries.c.occurred_at).limit(1)).scalar()
    return None if first is None else business_date(first)


def _decide(ctx: MutationContext, ticket: Any, decision: str, **values: Any) -> None:
    try:
        target = decided_ticket_state(ticket["status"], decision)
    except TransitionForbidden as refused:
        code = errors.TICKET_CLOSED if ticket["status"] == "closed" else errors.TRANSITION_FORBIDDEN
        refuse(ctx, code, f"service ticket {short_ref(ticket['id'])}", refused, ticket_id=ticket["id"])
    ctx.update(service_tickets, {"id": ticket["id"]}, {"status": target, **values}, current=ticket)


def short_ref(ticket_id: str) -> str:
    """How people name a ticket: the last 8 characters of its id (the random part of a UUIDv7)."""
    return ticket_id[-8:].upper()


@mutation("service.open_ticket", 1, OpenTicket)
def open_ticket(ctx: MutationContext, args: OpenTicket) -> None:
    """Open a service ticket for a customer's complaint (at HQ or on a device of the site, offline too)."""
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.UNKNOWN_SITE, "this site does not exist", site_id=args.site_id)
    require_customer(ctx, args.customer_id, active=False)
    if args.contact_id is not None:
        contact = ctx.get(customer_contacts, id=args.contact_id)
        if contact is None or contact["customer_id"] != args.customer_id:
            ctx.reject(errors.UNKNOWN_CONTACT, "this contact is not one of the customer's",
                       contact_id=args.contact_id)
    if not args.complaint.strip():
        ctx.reject(errors.EMPTY_COMPLAINT, "say what the customer complains about")
    if not 1 <= args.warranty_months <= MAX_MONTHS:
        ctx.reject(errors.INVALID_WARRANTY, f"a warranty lasts 1 to {MAX_MONTHS} months")
    until = args.warranty_until
    if until is None and args.sales_order_id is not None:
        delivered_on = _first_delivery_day(ctx, args.sales_order_id)
        until = warranty_until(delivered_on, args.warranty_months) if delivered_on is not None else None
    number, replaced = assign_number(
        ctx, site_id=args.site_id, document_type="service_ticket", proposed=args.number,
        in_use=lambda number: ctx.conn.execute(
            select(service_tickets.c.id).where(service_tickets.c.number == number)).first() is not None)
    ctx.insert(service_tickets, {
        "id": args.ticket_id, "number": number, "provisional_number": replaced,
        "site_id": args.site_id, "customer_id": args.customer_id,
        "contact_id": args.contact_id, "item_id": args.item_id, "serial_no": args.serial_no,
        "sales_order_id": args.sales_order_id, "complaint": args.complaint, "status": "complaint",
        "opened_at": args.opened_at, "opened_by": ctx.actor.user,
        "warranty_until": until.isoformat() if until else None,
        "under_warranty": in_warranty(until, business_date(args.opened_at)),
    })


@mutation("service.assign_ticket", 1, AssignTicket)
def assign_ticket(ctx: MutationContext, args: AssignTicket) -> None:
    """Give the ticket to a technician (again: to another one)."""
    if not args.technician.strip():
        ctx.reject(errors.NO_TECHNICIAN, "name the technician")
    _decide(ctx, require_ticket(ctx, args.ticket_id), "assigned", assigned_to=args.technician,
            assigned_at=datetime.now(timezone.utc))


@mutation("service.resolve_ticket", 1, ResolveTicket)
def resolve_ticket(ctx: MutationContext, args: ResolveTicket) -> None:
    """The problem is solved (or the complaint withdrawn), with how."""
    _decide(ctx, require_ticket(ctx, args.ticket_id), "resolved", resolution=args.resolution,
            resolved_at=datetime.now(timezone.utc))


@mutation("service.reopen_ticket", 1, ReopenTicket)
def reopen_ticket(ctx: MutationContext, args: ReopenTicket) -> None:
    """The customer calls again: the resolved ticket goes back to its technician."""
    ticket = require_ticket(ctx, args.ticket_id)
    note = f"{ticket['resolution'] or ''}\n[reopened] {args.reason}".strip()
    _decide(ctx, ticket, "reopened", resolved_at=None, resolution=note)


@mutation("service.close_ticket", 1, CloseTicket)
def close_ticket(ctx: MutationContext, args: CloseTicket) -> None:
    """Close a resolved ticket (the customer confirmed, or did not call back)."""
    _decide(ctx, require_ticket(ctx, args.ticket_id), "closed", closed_at=datetime.now(timezone.utc),
            closed_by=ctx.actor.user)
