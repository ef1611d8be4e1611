"""Sales exceptions: deliveries and returns someone in sales must look at, recorded rather than refused.

Goods that left left. A delivery against an order HQ cancelled or closed while the dock was
offline, against an order not yet confirmed, or beyond the ordered quantity, and a return of
more than was delivered, are all applied; each raises one exception naming the order, the
line, the delivery and the mutation (device, sequence) for sales to sort out with the customer.

States::

    open ──review──▶ reviewed
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import msgspec
from sqlalchemy import Column, Index, String, Table, Text

from erp.sales import errors
from sync.context import MutationContext
from sync.ids import new_id
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

EXCEPTION_KINDS = (
    "delivery_on_cancelled_order", "delivery_on_closed_order", "delivery_on_draft_order", "over_delivery",
    "return_exceeds_delivered",
)

sales_exceptions = Table(
    "sales_exceptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("kind", String(32), nullable=False),  # one of EXCEPTION_KINDS
    Column("order_id", ID, nullable=False),
    Column("order_line_id", ID, nullable=False),
    Column("delivery_id", ID, nullable=False),  # the so_deliveries row that raised it
    Column("quantity", DecimalType, nullable=False),  # the delivery's quantity, or the excess
    Column("involved_json", Text, nullable=False),  # {"device_id", "seq", "user_name"}
    Column("status", String(16), nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("review_note", Text),
    version_column(),
    Index("ix_sales_exceptions_site_key", "site_id", "id"),
)

TRANSITIONS = {"open": frozenset({"reviewed"}), "reviewed": frozenset()}


def raise_exception(ctx: MutationContext, *, kind: str, site_id: str, order_id: str, order_line_id: str,
                    delivery_id: str, quantity: Decimal) -> None:
    if kind not in EXCEPTION_KINDS:
        raise ValueError(f"unknown sales exception kind {kind}")
    ctx.insert(sales_exceptions, {
        "id": new_id(), "site_id": site_id, "kind": kind, "order_id": order_id, "order_line_id": order_line_id,
        "delivery_id": delivery_id, "quantity": quantity,
        "involved_json": json.dumps({"device_id": ctx.ref.device_id, "seq": ctx.ref.seq, "user_name": ctx.actor.user},
                                    ensure_ascii=False),
        "status": "open", "raised_at": datetime.now(timezone.utc),
    })


class ReviewSalesException(msgspec.Struct, frozen=True):
    exception_id: str
    note: str = ""


@mutation("sales.review_exception", 1, ReviewSalesException)
def review_exception(ctx: MutationContext, args: ReviewSalesException) -> None:
    """Close a sales exception after review, with a note."""
    row = ctx.get(sales_exceptions, id=args.exception_id)
    if row is None:
        ctx.reject(errors.UNKNOWN_EXCEPTION, "this exception does not exist", exception_id=args.exception_id)
    if "reviewed" not in TRANSITIONS[row["status"]]:
        ctx.reject(errors.EXCEPTION_CLOSED, f"this exception is already {row['status']}")
    ctx.update(sales_exceptions, {"id": args.exception_id}, {"status": "reviewed", "review_note": args.note},
               current=row)
