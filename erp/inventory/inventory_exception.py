"""Inventory exceptions: physical facts that break a rule, raised for review rather than refused.

Goods that physically left the shelf left it, so an offline issue that takes stock below zero
is applied. The exception records what to review: item, location, resulting quantity and the
mutations (device, sequence) and moves involved. While one is open for an (item, location,
kind), further moves of that kind join it instead of opening another.

Kinds (``KINDS``): ``negative_stock``; ``held_lot_moved`` (a device picked a lot that HQ had put on
hold); ``missing_lot`` (a move of a lot-tracked item named no lot); ``missing_serial``,
``serial_quantity`` (a serial-tracked move that is not one unit), ``serial_in_stock`` (a serial
received while already in stock) and ``serial_not_in_stock`` (a serial issued that was not on
that shelf).

``refuse_or_flag`` is the one rule for where such a fact is refused: on a device and at HQ the
user is still there to correct the input, so it is refused with a typed error; on the server,
a move pushed by a device already happened, so it is recorded and flagged.

States::

    open ──review──▶ reviewed
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import msgspec
from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, select

from erp.inventory import errors
from sync.context import MutationContext, Side
from sync.ids import new_id
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

inventory_exceptions = Table(
    "inventory_exceptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("kind", String(32), nullable=False),  # one of KINDS
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("location_id", ID, ForeignKey("locations.id"), nullable=False),
    Column("quantity", DecimalType, nullable=False),  # on-hand after the latest move involved
    Column("involved_json", Text, nullable=False),  # [{"device_id", "seq", "move_id"}, ...]
    Column("status", String(16), nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("review_note", Text),
    version_column(),
    Index("ix_inventory_exceptions_site_version", "site_id", "_version"),
    Index("ix_inventory_exceptions_site_key", "site_id", "id"),  # bootstrap reads a site in key order
)

TRANSITIONS = {"open": frozenset({"reviewed"}), "reviewed": frozenset()}

KINDS = ("negative_stock", "held_lot_moved", "missing_lot", "missing_serial", "serial_quantity",
         "serial_in_stock", "serial_not_in_stock")


def refuses_here(ctx: MutationContext) -> bool:
    """True where a rule-breaking move is refused: on a device, and at HQ (no device behind it)."""
    return ctx.side is Side.EDGE or ctx.ref.device_id is None


def refuse_or_flag(
    ctx: MutationContext, code: str, message: str, *, kind: str, site_id: str, item_id: str, location_id: str,
    quantity: Decimal, move_id: str, **details: str,
) -> None:
    """Refuse the move with ``code`` where a user can still correct it, else flag it as ``kind``."""
    if refuses_here(ctx):
        ctx.reject(code, message, item_id=item_id, location_id=location_id, **details)
    flag(ctx, kind=kind, site_id=site_id, item_id=item_id, location_id=location_id, quantity=quantity,
         move_id=move_id, **details)


def flag_negative_stock(
    ctx: MutationContext, *, site_id: str, item_id: str, location_id: str, quantity: Decimal, move_id: str
) -> None:
    flag(ctx, kind="negative_stock", site_id=site_id, item_id=item_id, location_id=location_id,
         quantity=quantity, move_id=move_id)


def flag(
    ctx: MutationContext, *, kind: str, site_id: str, item_id: str, location_id: str, quantity: Decimal,
    move_id: str, **details: str,
) -> None:
    """Open an exception of ``kind``, or add this move to the open one for (item, location, kind).

    ``quantity`` is the quantity the exception concerns after this move (on-hand for negative
    stock, the lot's or the move's quantity otherwise); ``details`` (lot_no, serial_no) are kept
    with the move in ``involved``.
    """
    involvement = {"device_id": ctx.ref.device_id, "seq": ctx.ref.seq, "move_id": move_id, **details}
    existing = ctx.conn.execute(
        select(inventory_exceptions).where(
            inventory_exceptions.c.item_id == item_id,
            inventory_exceptions.c.location_id == location_id,
            inventory_exceptions.c.kind == kind,
            inventory_exceptions.c.status == "open",
        )
    ).mappings().first()
    if existing is None:
        ctx.insert(
            inventory_exceptions,
            {
                "id": new_id(),
                "site_id": site_id,
                "kind": kind,
                "item_id": item_id,
                "location_id": location_id,
                "quantity": quantity,
                "involved_json": json.dumps([involvement]),
                "status": "open",
                "raised_at": datetime.now(timezone.utc),
            },
        )
        return
    involved = json.loads(existing["involved_json"]) + [involvement]
    ctx.update(
        inventory_exceptions,
        {"id": existing["id"]},
        {"quantity": quantity, "involved_json": json.dumps(involved)},
    )


class ReviewException(msgspec.Struct, frozen=True):
    exception_id: str
    note: str = ""


@mutation("inventory.review_exception", 1, ReviewException)
def review_exception(ctx: MutationContext, args: ReviewException) -> None:
    """Close an inventory exception after review, with a note."""
    row = ctx.get(inventory_exceptions, id=args.exception_id)
    if row is None:
        ctx.reject(errors.UNKNOWN_EXCEPTION, "this exception does not exist", exception_id=args.exception_id)
    if "reviewed" not in TRANSITIONS[row["status"]]:
        ctx.reject(errors.EXCEPTION_CLOSED, f"this exception is already {row['status']}")
    ctx.update(inventory_exceptions, {"id": args.exception_id}, {"status": "reviewed", "review_note": args.note})
