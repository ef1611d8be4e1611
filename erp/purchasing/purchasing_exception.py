"""Purchasing exceptions: receipts and returns the buyer must look at, recorded rather than refused.

Goods that arrived arrived. A receipt against an order HQ cancelled or closed while the tablet
was offline, against an order not yet approved, or beyond the over-receipt tolerance, and a
return of more than was received, are all applied; each raises one exception naming the order,
the line, the receipt and the mutation (device, sequence) for the buyer to resolve.

States::

    open ──review──▶ reviewed
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import msgspec
from sqlalchemy import Column, Index, String, Table, Text

from erp.purchasing import errors
from sync.context import MutationContext
from sync.ids import new_id
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

EXCEPTION_KINDS = (
    "receipt_on_cancelled_po", "receipt_on_closed_po", "receipt_on_draft_po", "over_receipt",
    "return_exceeds_received",
)

purchasing_exceptions = Table(
    "purchasing_exceptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("kind", String(32), nullable=False),  # one of EXCEPTION_KINDS
    Column("po_id", ID, nullable=False),
    Column("po_line_id", ID, nullable=False),
    Column("receipt_id", ID, nullable=False),  # the po_receipts row that raised it
    Column("quantity", DecimalType, nullable=False),  # the receipt's quantity, or the excess
    Column("involved_json", Text, nullable=False),  # {"device_id", "seq", "user_name"}
    Column("status", String(16), nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("review_note", Text),
    version_column(),
    Index("ix_purchasing_exceptions_site_key", "site_id", "id"),
)

TRANSITIONS = {"open": frozenset({"reviewed"}), "reviewed": frozenset()}


def raise_exception(ctx: MutationContext, *, kind: str, site_id: str, po_id: str, po_line_id: str, receipt_id: str,
                    quantity: Decimal) -> None:
    if kind not in EXCEPTION_KINDS:
        raise ValueError(f"unknown purchasing exception kind {kind}")
    ctx.insert(purchasing_exceptions, {
        "id": new_id(), "site_id": site_id, "kind": kind, "po_id": po_id, "po_line_id": po_line_id,
        "receipt_id": receipt_id, "quantity": quantity,
        "involved_json": json.dumps({"device_id": ctx.ref.device_id, "seq": ctx.ref.seq, "user_name": ctx.actor.user},
                                    ensure_ascii=False),
        "status": "open", "raised_at": datetime.now(timezone.utc),
    })


class ReviewPurchasingException(msgspec.Struct, frozen=True):
    exception_id: str
    note: str = ""


@mutation("purchasing.review_exception", 1, ReviewPurchasingException)
def review_exception(ctx: MutationContext, args: ReviewPurchasingException) -> None:
    """Close a purchasing exception after review, with a note."""
    row = ctx.get(purchasing_exceptions, id=args.exception_id)
    if row is None:
        ctx.reject(errors.UNKNOWN_EXCEPTION, "this exception does not exist", exception_id=args.exception_id)
    if "reviewed" not in TRANSITIONS[row["status"]]:
        ctx.reject(errors.EXCEPTION_CLOSED, f"this exception is already {row['status']}")
    ctx.update(purchasing_exceptions, {"id": args.exception_id}, {"status": "reviewed", "review_note": args.note},
               current=row)
