"""Opportunities (商机): a chance to sell to a customer, worth an expected amount, won or lost.

An opportunity belongs to a site and a customer; it is opened at HQ or on a device of the site
(offline too), directly or by converting a lead (lead.py). Quotations may name the opportunity
they answer. States (``TRANSITIONS``; decisions checked against the server's state)::

    open ──win──▶ won
      └───lose──▶ lost

Invariants:
- ``expected_value`` is a finite amount ≥ 0 (yuan, to the fen); ``expected_close`` an ISO date.
- ``won`` and ``lost`` are final; ``site_id`` and ``customer_id`` never change.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import msgspec
from sqlalchemy import Column, ForeignKey, Index, String, Table, Text

from erp.org.site import sites
from erp.sales import errors
from erp.sales.credit_limit import amount_problem
from erp.sales.customer import require_customer
from erp.sales.states import TransitionForbidden, decided_state, refuse
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType, UtcDateTime

opportunities = Table(
    "opportunities",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("lead_id", ID),  # the lead it was converted from, if any
    Column("title", String(200), nullable=False),
    Column("expected_value", DecimalType, nullable=False),  # yuan
    Column("expected_close", String(10)),  # ISO 8601 date: its text sorts as the date
    Column("status", String(8), nullable=False),
    Column("note", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120)),
    Column("decided_at", UtcDateTime),
    Column("decided_by", String(120)),
    Column("lost_reason", Text),
    version_column(),
    field_versions_column(),
    Index("ix_opportunities_site_key", "site_id", "id"),
)

TRANSITIONS = {"open": frozenset({"won", "lost"}), "won": frozenset(), "lost": frozenset()}
DECIDED_FROM = {"won": frozenset({"open"}), "lost": frozenset({"open"})}


class CreateOpportunity(msgspec.Struct, frozen=True):
    opportunity_id: str
    site_id: str
    customer_id: str
    title: str
    expected_value: Decimal = Decimal(0)
    expected_close: date | None = None
    note: str | None = None


class WinOpportunity(msgspec.Struct, frozen=True):
    opportunity_id: str


class LoseOpportunity(msgspec.Struct, frozen=True):
    opportunity_id: str
    reason: str = ""


def insert_opportunity(ctx: MutationContext, *, opportunity_id: str, site_id: str, customer_id: str, title: str,
                       expected_value: Decimal, expected_close: date | None = None, note: str | None = None,
                       lead_id: str | None = None) -> None:
    if ctx.get(sites, id=site_id) is None:
        ctx.reject(errors.SITE_MISMATCH, "this site does not exist", site_id=site_id)
    require_customer(ctx, customer_id)
    if not title.strip():
        ctx.reject(errors.INVALID_NAME, "an opportunity needs a title")
    if (problem := amount_problem(expected_value, "an expected value")) is not None:
        ctx.reject(errors.INVALID_AMOUNT, problem)
    ctx.insert(opportunities, {
        "id": opportunity_id, "site_id": site_id, "customer_id": customer_id, "lead_id": lead_id, "title": title,
        "expected_value": expected_value, "expected_close": expected_close.isoformat() if expected_close else None,
        "status": "open", "note": note, "created_at": datetime.now(timezone.utc), "created_by": ctx.actor.user,
    })


def _decide(ctx: MutationContext, opportunity_id: str, target: str, **extra) -> None:
    row = ctx.get(opportunities, id=opportunity_id)
    if row is None:
        ctx.reject(errors.UNKNOWN_OPPORTUNITY, "this opportunity does not exist", opportunity_id=opportunity_id)
    try:
        decided_state(TRANSITIONS, DECIDED_FROM, "opportunity", row["status"], target)
    except TransitionForbidden as refused:
        refuse(ctx, errors.TRANSITION_FORBIDDEN, f"opportunity {row['title']}", refused,
               opportunity_id=opportunity_id)
    ctx.update(opportunities, {"id": opportunity_id}, {"status": target, "decided_at": datetime.now(timezone.utc),
                                                       "decided_by": ctx.actor.user, **extra}, current=row)


@mutation("sales.create_opportunity", 1, CreateOpportunity)
def create_opportunity(ctx: MutationContext, args: CreateOpportunity) -> None:
    """Open an opportunity for a customer in a site (at HQ or on a device of the site)."""
    insert_opportunity(ctx, opportunity_id=args.opportunity_id, site_id=args.site_id, customer_id=args.customer_id,
                       title=args.title, expected_value=args.expected_value, expected_close=args.expected_close,
                       note=args.note)


@mutation("sales.win_opportunity", 1, WinOpportunity)
def win_opportunity(ctx: MutationContext, args: WinOpportunity) -> None:
    """The customer chose us."""
    _decide(ctx, args.opportunity_id, "won")


@mutation("sales.lose_opportunity", 1, LoseOpportunity)
def lose_opportunity(ctx: MutationContext, args: LoseOpportunity) -> None:
    """The customer chose someone else, or nothing; with the reason."""
    _decide(ctx, args.opportunity_id, "lost", lost_reason=args.reason or None)
