"""Quotations (报价单): prices offered to a customer for a while, which may become a sales order.

States (``TRANSITIONS``; every change is a person's decision, checked against the server's state)::

    draft ──send──▶ sent ──accept──▶ accepted ──convert──▶ (a draft sales order, linked both ways)
      │              ├──reject──▶ rejected
      └──expire──▶ expired ◀──expire──┘

- A quotation is valid until the end of its ``valid_until`` day in Wuhan (business_day.py).
  Accepting carries when the customer accepted: after that day it is rejected
  (``sales.quotation_expired``) even if nobody marked it expired yet. Marking a quotation
  expired before its day is over is refused (``sales.quotation_still_valid``).
- Converting an accepted quotation creates a draft sales order with the same customer, site,
  items, quantities and prices (sales_order.py); the order names the quotation and the
  quotation the order, and a quotation converts once (``sales.quotation_converted``).

Invariants:
- Lines are fixed once the quotation exists; quantities > 0, prices ≥ 0 (at most 6 decimals).
- ``accepted``, ``rejected`` and ``expired`` are final; an accepted quotation gains only its
  ``sales_order_id``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any

import msgspec
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, select

from erp.org.site import sites
from erp.sales import errors
from erp.sales.business_day import business_date
from erp.sales.customer import require_customer
from erp.sales.sales_order import NewLine, check_lines, insert_order
from erp.sales.states import TransitionForbidden, decided_state, refuse
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType, UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

quotations = Table(
    "quotations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),  # the site that would ship
    Column("number", String(40), nullable=False, unique=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("opportunity_id", ID),  # the opportunity it answers, if any
    Column("status", String(16), nullable=False),
    Column("valid_until", String(10), nullable=False),  # ISO 8601 date, inclusive, in Wuhan
    Column("note", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120)),
    Column("sent_at", UtcDateTime),
    Column("decided_at", UtcDateTime),  # accepted, rejected or expired: when the customer (or time) decided
    Column("decided_by", String(120)),
    Column("reject_reason", Text),
    Column("sales_order_id", ID),  # the order it became
    version_column(),
    field_versions_column(),
    Index("ix_quotations_site_key", "site_id", "id"),
)

quotation_lines = Table(
    "quotation_lines",
    metadata,
    Column("id", ID, primary_key=True),
    Column("quotation_id", ID, ForeignKey("quotations.id"), nullable=False, index=True),
    Column("site_id", ID, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("quantity", DecimalType, nullable=False),
    Column("unit_price", DecimalType, nullable=False),
    UniqueConstraint("quotation_id", "line_no"),
    version_column(),
    field_versions_column(),
    Index("ix_quotation_lines_site_key", "site_id", "id"),
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"sent", "expired"}),
    "sent": frozenset({"accepted", "rejected", "expired"}),
    "accepted": frozenset(),
    "rejected": frozenset(),
    "expired": frozenset(),
}
DECIDED_FROM: dict[str, frozenset[str]] = {
    "sent": frozenset({"draft"}),
    "accepted": frozenset({"sent"}),
    "rejected": frozenset({"sent"}),
    "expired": frozenset({"draft", "sent"}),
}


def quotation_state(current: str, decision: str) -> str:
    """The state a decision (``sent``, ``accepted``, ``rejected``, ``expired``) leads to, or
    ``TransitionForbidden``."""
    return decided_state(TRANSITIONS, DECIDED_FROM, "quotation", current, decision)


def still_valid(valid_until: date, moment: datetime) -> bool:
    """Whether a quotation valid until ``valid_until`` (inclusive, in Wuhan) holds at ``moment``."""
    return business_date(moment) <= valid_until


class CreateQuotation(msgspec.Struct, frozen=True):
    quotation_id: str
    site_id: str
    number: str
    customer_id: str
    valid_until: date
    lines: list[NewLine]
    opportunity_id: str | None = None
    note: str | None = None


class SendQuotation(msgspec.Struct, frozen=True):
    quotation_id: str


class AcceptQuotation(msgspec.Struct, frozen=True):
    quotation_id: str
    accepted_at: UtcMoment  # when the customer accepted (signed, or said so)


class RejectQuotation(msgspec.Struct, frozen=True):
    quotation_id: str
    reason: str = ""


class ExpireQuotation(msgspec.Struct, frozen=True):
    quotation_id: str
    as_of: UtcMoment


class ConvertQuotation(msgspec.Struct, frozen=True):
    """Make the draft sales order ``order_id`` from an accepted quotation; ``line_ids``: one new
    id per quotation line, in line order."""

    quotation_id: str
    order_id: str
    number: str
    line_ids: list[str]
    requested_at: UtcMoment | None = None


def require_quotation(ctx: MutationContext, quotation_id: str) -> Any:
    row = ctx.get(quotations, id=quotation_id)
    if row is None:
        ctx.reject(errors.UNKNOWN_QUOTATION, "this quotation does not exist", quotation_id=quotation_id)
    return row


def _check_decision(ctx: MutationContext, quotation: Any, target: str) -> None:
    """Reject a decision the quotation's current state (as the server has it) does not allow."""
    try:
        quotation_state(quotation["status"], target)
    except TransitionForbidden as refused:
        refuse(ctx, errors.TRANSITION_FORBIDDEN, f"quotation {quotation['number']}", refused,
               quotation_id=quotation["id"])


def _decide(ctx: MutationContext, quotation: Any, target: str, **extra: Any) -> None:
    _check_decision(ctx, quotation, target)
    ctx.update(quotations, {"id": quotation["id"]}, {"status": target, **extra}, current=quotation)


@mutation("sales.create_quotation", 1, CreateQuotation)
def create_quotation(ctx: MutationContext, args: CreateQuotation) -> None:
    """Draw up a quotation for a customer, with its lines and validity (HQ: sales)."""
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.SITE_MISMATCH, "this site does not exist", site_id=args.site_id)
    require_customer(ctx, args.customer_id)
    if ctx.conn.execute(select(quotations.c.id).where(quotations.c.number == args.number)).first():
        ctx.reject(errors.QUOTATION_NUMBER_TAKEN, f"quotation number {args.number} is already used",
                   number=args.number)
    check_lines(ctx, args.lines)
    ctx.insert(quotations, {
        "id": args.quotation_id, "site_id": args.site_id, "number": args.number, "customer_id": args.customer_id,
        "opportunity_id": args.opportunity_id, "status": "draft", "valid_until": args.valid_until.isoformat(),
        "note": args.note, "created_at": datetime.now(timezone.utc), "created_by": ctx.actor.user,
    })
    for line_no, line in enumerate(args.lines, start=1):
        ctx.insert(quotation_lines, {
            "id": line.line_id, "quotation_id": args.quotation_id, "site_id": args.site_id, "line_no": line_no,
            "item_id": line.item_id, "quantity": line.quantity, "unit_price": line.unit_price,
        })


@mutation("sales.send_quotation", 1, SendQuotation)
def send_quotation(ctx: MutationContext, args: SendQuotation) -> None:
    """The quotation went to the customer."""
    _decide(ctx, require_quotation(ctx, args.quotation_id), "sent", sent_at=datetime.now(timezone.utc))


@mutation("sales.accept_quotation", 1, AcceptQuotation)
def accept_quotation(ctx: MutationContext, args: AcceptQuotation) -> None:
    """The customer accepted the quotation, within its validity."""
    quotation = require_quotation(ctx, args.quotation_id)
    _check_decision(ctx, quotation, "accepted")
    valid_until = date.fromisoformat(quotation["valid_until"])
    if not still_valid(valid_until, args.accepted_at):
        ctx.reject(errors.QUOTATION_EXPIRED, f"quotation {quotation['number']} was valid until {valid_until}; "
                   "quote again", quotation_id=quotation["id"], valid_until=quotation["valid_until"])
    _decide(ctx, quotation, "accepted", decided_at=args.accepted_at, decided_by=ctx.actor.user)


@mutation("sales.reject_quotation", 1, RejectQuotation)
def reject_quotation(ctx: MutationContext, args: RejectQuotation) -> None:
    """The customer turned the quotation down, with the reason."""
    _decide(ctx, require_quotation(ctx, args.quotation_id), "rejected", decided_at=datetime.now(timezone.utc),
            decided_by=ctx.actor.user, reject_reason=args.reason or None)


@mutation("sales.expire_quotation", 1, ExpireQuotation)
def expire_quotation(ctx: MutationContext, args: ExpireQuotation) -> None:
    """Mark a quotation whose validity is over as expired."""
    quotation = require_quotation(ctx, args.quotation_id)
    _check_decision(ctx, quotation, "expired")
    if still_valid(date.fromisoformat(quotation["valid_until"]), args.as_of):
        ctx.reject(errors.QUOTATION_STILL_VALID, f"quotation {quotation['number']} is valid until "
                   f"{quotation['valid_until']}", quotation_id=quotation["id"])
    _decide(ctx, quotation, "expired", decided_at=args.as_of, decided_by=ctx.actor.user)


@mutation("sales.convert_quotation", 1, ConvertQuotation)
def convert_quotation(ctx: MutationContext, args: ConvertQuotation) -> None:
    """Turn an accepted quotation into a draft sales order at its prices (HQ: sales)."""
    quotation = require_quotation(ctx, args.quotation_id)
    if quotation["status"] != "accepted":
        ctx.reject(errors.QUOTATION_NOT_ACCEPTED, f"quotation {quotation['number']} is {quotation['status']}: "
                   "only an accepted quotation becomes an order", quotation_id=quotation["id"],
                   status=quotation["status"])
    if quotation["sales_order_id"] is not None:
        ctx.reject(errors.QUOTATION_CONVERTED, f"quotation {quotation['number']} is already an order",
                   quotation_id=quotation["id"], order_id=quotation["sales_order_id"])
    lines = list(ctx.conn.execute(select(quotation_lines).where(quotation_lines.c.quotation_id == quotation["id"])
                                  .order_by(quotation_lines.c.line_no)).mappings())
    if len(args.line_ids) != len(lines):
        ctx.reject(errors.LINE_IDS_MISMATCH, f"quotation {quotation['number']} has {len(lines)} lines: give as many "
                   "new line ids", lines=len(lines), line_ids=len(args.line_ids))
    insert_order(ctx, order_id=args.order_id, site_id=quotation["site_id"], number=args.number,
                 customer_id=quotation["customer_id"], quotation_id=quotation["id"], requested_at=args.requested_at,
                 lines=[NewLine(line_id, line["item_id"], line["quantity"], line["unit_price"])
                        for line_id, line in zip(args.line_ids, lines)])
    ctx.update(quotations, {"id": quotation["id"]}, {"sales_order_id": args.order_id}, current=quotation)
