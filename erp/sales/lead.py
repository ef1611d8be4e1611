"""Leads (线索): a company or person who may buy, before there is anything to quote.

A lead belongs to the site whose salespeople work it and may be captured on a device, offline
(a trade fair, a call to the branch office): its id comes from the device. Its states
(``TRANSITIONS``; every change is a person's decision, checked against the server's state)::

    new ──qualify──▶ qualified ──convert──▶ converted
     │  └────────────convert───────────────────▲
     └──lose──▶ lost ◀──lose──┘

Converting a lead opens an opportunity for a customer (created at HQ, or found among the
existing ones) in the same site, and links the two. The lead's phone number is personal data
under ``sales.view_contact_details``, like a contact's (contact.py).

Invariants:
- ``site_id`` never changes; a converted lead names its opportunity, a lost one may give why.
- ``converted`` and ``lost`` are final.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import msgspec
from sqlalchemy import Column, ForeignKey, Index, String, Table, Text

from erp.org.site import sites
from erp.sales import errors
from erp.sales.contact import VIEW_CONTACT_DETAILS, phone_problem
from erp.sales.opportunity import insert_opportunity
from erp.sales.states import TransitionForbidden, decided_state, refuse
from sync.context import MutationContext
from sync.personal import personal_column
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import UtcDateTime

PERSONAL_FIELDS = {"phone": VIEW_CONTACT_DETAILS}

leads = Table(
    "leads",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("name", String(200), nullable=False),  # the company, or the person if private
    Column("contact_name", String(100)),
    personal_column("leads", "phone", String(40)),
    Column("source", String(40)),  # 展会, 电话, 转介绍, 网站…
    Column("status", String(16), nullable=False),
    Column("note", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120)),
    Column("decided_at", UtcDateTime),  # the last qualify, lose or convert
    Column("decided_by", String(120)),
    Column("lost_reason", Text),
    Column("opportunity_id", ID),  # set when converted
    version_column(),
    field_versions_column(),
    Index("ix_leads_site_key", "site_id", "id"),
)

TRANSITIONS = {
    "new": frozenset({"qualified", "converted", "lost"}),
    "qualified": frozenset({"converted", "lost"}),
    "converted": frozenset(),
    "lost": frozenset(),
}
DECIDED_FROM = {
    "qualified": frozenset({"new"}),
    "converted": frozenset({"new", "qualified"}),
    "lost": frozenset({"new", "qualified"}),
}


class CreateLead(msgspec.Struct, frozen=True):
    lead_id: str
    site_id: str
    name: str
    contact_name: str | None = None
    phone: str | None = None
    source: str | None = None
    note: str | None = None


class QualifyLead(msgspec.Struct, frozen=True):
    lead_id: str


class LoseLead(msgspec.Struct, frozen=True):
    lead_id: str
    reason: str = ""


class ConvertLead(msgspec.Struct, frozen=True):
    """Open an opportunity for ``customer_id`` from the lead (the customer exists already)."""

    lead_id: str
    opportunity_id: str
    customer_id: str
    title: str
    expected_value: Decimal = Decimal(0)


def _decide(ctx: MutationContext, lead_id: str, target: str, **extra) -> dict:
    lead = ctx.get(leads, id=lead_id)
    if lead is None:
        ctx.reject(errors.UNKNOWN_LEAD, "this lead does not exist", lead_id=lead_id)
    try:
        decided_state(TRANSITIONS, DECIDED_FROM, "lead", lead["status"], target)
    except TransitionForbidden as refused:
        refuse(ctx, errors.TRANSITION_FORBIDDEN, f"lead {lead['name']}", refused, lead_id=lead_id)
    ctx.update(leads, {"id": lead_id}, {"status": target, "decided_at": datetime.now(timezone.utc),
                                        "decided_by": ctx.actor.user, **extra}, current=lead)
    return dict(lead)


@mutation("sales.create_lead", 1, CreateLead, personal_args=tuple(PERSONAL_FIELDS))
def create_lead(ctx: MutationContext, args: CreateLead) -> None:
    """Capture a lead for a site (at HQ or on a device of the site, offline too)."""
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.SITE_MISMATCH, "this site does not exist", site_id=args.site_id)
    if not args.name.strip():
        ctx.reject(errors.INVALID_NAME, "a lead needs a name")
    if args.phone is not None and (problem := phone_problem(args.phone)) is not None:
        ctx.reject(errors.INVALID_PHONE, problem, field="phone")
    ctx.insert(leads, {
        "id": args.lead_id, "site_id": args.site_id, "name": args.name, "contact_name": args.contact_name,
        "phone": args.phone, "source": args.source, "status": "new", "note": args.note,
        "created_at": datetime.now(timezone.utc), "created_by": ctx.actor.user,
    })


@mutation("sales.qualify_lead", 1, QualifyLead)
def qualify_lead(ctx: MutationContext, args: QualifyLead) -> None:
    """The lead has a need, a budget and someone who decides: worth working."""
    _decide(ctx, args.lead_id, "qualified")


@mutation("sales.lose_lead", 1, LoseLead)
def lose_lead(ctx: MutationContext, args: LoseLead) -> None:
    """Give a lead up, with the reason."""
    _decide(ctx, args.lead_id, "lost", lost_reason=args.reason or None)


@mutation("sales.convert_lead", 1, ConvertLead)
def convert_lead(ctx: MutationContext, args: ConvertLead) -> None:
    """Turn a lead into an opportunity for an existing customer, in the lead's site."""
    lead = _decide(ctx, args.lead_id, "converted", opportunity_id=args.opportunity_id)
    insert_opportunity(ctx, opportunity_id=args.opportunity_id, site_id=lead["site_id"],
                       customer_id=args.customer_id, title=args.title, expected_value=args.expected_value,
                       lead_id=args.lead_id)
