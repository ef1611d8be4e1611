"""Stock moves: the inventory ledger, and the mutations that append to it.

Invariants:
- A move is never updated or deleted. A correction is a reversal: a new move with the negated
  quantity whose ``reverses_id`` points at the original; a move is reversed at most once.
- Every move updates ``on_hand`` in the same transaction (see ``on_hand.apply_delta``).
- A move's id is generated on the device, so a replayed mutation cannot append it twice.
- ``occurred_at`` is when it physically happened (device time, UTC); ``hlc`` orders it among
  the device's other actions; the server's ``_version`` orders it for sync.
- Quantities are Decimal with at most 9 decimal places.
- ``lot_no`` / ``serial_no`` name the lot or serial unit a move concerns, for items tracked so;
  ``unit_cost`` is what one unit of an incoming move cost (a receipt's price), and stays empty
  on moves whose cost valuation derives from the ledger.
- Every move naming a lot updates ``lots`` / ``lot_on_hand`` (``lot.record_lot_move``), and
  every move of a serial-tracked item or naming a serial updates ``serial_numbers``
  (``serial_number.record_serial_move``), in the same transaction. Their rules (held lots,
  one unit per serial) refuse the move on a device and at HQ and flag it on the server.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text, select

from erp.inventory import errors
from erp.inventory.item import items
from erp.inventory.lot import record_lot_move
from erp.inventory.on_hand import apply_delta
from erp.inventory.serial_number import record_serial_move
from erp.inventory.stock_valuation import value_move
from erp.inventory.warehouse import locations
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

MOVE_KINDS = ("receipt", "issue", "transfer_out", "transfer_in", "adjustment", "count", "reversal")

stock_moves = Table(
    "stock_moves",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("location_id", ID, ForeignKey("locations.id"), nullable=False),
    Column("quantity", DecimalType, nullable=False),  # signed: + in, - out
    Column("document_id", ID),  # groups the two legs of a transfer; a work order's moves name it
    Column("reverses_id", ID, unique=True),  # unique: a move is reversed at most once
    Column("reference", Text),
    Column("lot_no", String(64)),  # the lot or batch (批次); set for lot-tracked items
    Column("serial_no", String(64)),  # the serial number (序列号); set for serial-tracked items
    Column("unit_cost", DecimalType),  # cost per unit of an incoming move, when it is known
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("device_id", ID),
    Column("seq", BigInteger),  # the device mutation sequence that appended it
    Column("hlc", String(64), nullable=False),
    Column("user_name", String(120)),
    version_column(),
    Index("ix_stock_moves_site_version", "site_id", "_version"),
    Index("ix_stock_moves_site_key", "site_id", "id"),  # bootstrap reads a site in key order
    Index("ix_stock_moves_item_location", "item_id", "location_id"),
    Index("ix_stock_moves_occurred_at", "occurred_at"),
    Index("ix_stock_moves_document_id", "document_id"),  # the moves of one document (a work order)
    Index("ix_stock_moves_item_lot", "item_id", "lot_no"),  # a lot's history (recall, FEFO, QC holds)
)


def check_quantity(ctx: MutationContext, quantity: Decimal, *, allow_zero: bool = False, allow_negative: bool = False) -> None:
    exponent = quantity.as_tuple().exponent
    if not quantity.is_finite() or (isinstance(exponent, int) and exponent < -9):
        ctx.reject(errors.INVALID_QUANTITY, f"{quantity} is not a quantity with at most 9 decimals")
    if (quantity == 0 and not allow_zero) or (quantity < 0 and not allow_negative):
        ctx.reject(errors.INVALID_QUANTITY, f"quantity {quantity} is not allowed here", quantity=str(quantity))


def require_location(ctx: MutationContext, location_id: str) -> Any:
    location = ctx.get(locations, id=location_id)
    if location is None:
        ctx.reject(errors.UNKNOWN_LOCATION, "this location does not exist", location_id=location_id)
    return location


def require_item(ctx: MutationContext, item_id: str) -> Any:
    item = ctx.get(items, id=item_id)
    if item is None:
        ctx.reject(errors.UNKNOWN_ITEM, "this item does not exist", item_id=item_id)
    return item


def post_move(
    ctx: MutationContext,
    *,
    move_id: str,
    kind: str,
    item_id: str,
    location: Any,
    quantity: Decimal,
    occurred_at: datetime,
    reference: str | None = None,
    document_id: str | None = None,
    reverses_id: str | None = None,
    lot_no: str | None = None,
    serial_no: str | None = None,
    unit_cost: Decimal | None = None,
    expires_on: date | None = None,
    may_move_held: bool = False,
) -> bool:
    """Append one move and update on-hand, lots and serials. False if the move id was already recorded.

    ``expires_on`` is the expiry shown on the goods of a receipt registering a new lot;
    ``may_move_held`` lets an outgoing move take a held lot (a return to its supplier).
    """
    appended = ctx.insert_ledger(
        stock_moves,
        {
            "id": move_id,
            "site_id": location["site_id"],
            "kind": kind,
            "item_id": item_id,
            "location_id": location["id"],
            "quantity": quantity,
            "document_id": document_id,
            "reverses_id": reverses_id,
            "reference": reference,
            "lot_no": lot_no,
            "serial_no": serial_no,
            "unit_cost": unit_cost,
            "occurred_at": occurred_at,
            "device_id": ctx.ref.device_id,
            "seq": ctx.ref.seq if ctx.ref.device_id else None,
            "hlc": ctx.ref.hlc,
            "user_name": ctx.actor.user,
        },
    )
    if appended:
        apply_delta(ctx, location=location, item_id=item_id, delta=quantity, move_id=move_id)
        value_move(ctx, move_id=move_id, site_id=location["site_id"], item_id=item_id, kind=kind, quantity=quantity,
                   unit_cost=unit_cost, reverses_id=reverses_id, occurred_at=occurred_at)  # server only
        item = ctx.get(items, id=item_id)
        if item is not None and (lot_no is not None or item["tracking"] == "lot"):
            record_lot_move(ctx, location=location, item=item, move_id=move_id, kind=kind, quantity=quantity,
                            lot_no=lot_no, occurred_at=occurred_at, expires_on=expires_on,
                            may_move_held=may_move_held)
        if item is not None and (serial_no is not None or item["tracking"] == "serial"):
            record_serial_move(ctx, location=location, item=item, move_id=move_id, kind=kind, quantity=quantity,
                               serial_no=serial_no)
    return appended


class Receive(msgspec.Struct, frozen=True):
    move_id: str
    item_id: str
    location_id: str
    quantity: Decimal
    occurred_at: UtcMoment
    reference: str | None = None
    lot_no: str | None = None  # for lot-tracked items
    expires_on: date | None = None  # the lot's expiry, when the goods show one
    serial_no: str | None = None  # for serial-tracked items: one unit per move
    unit_cost: Decimal | None = None  # what one unit cost, for valuation


class Issue(msgspec.Struct, frozen=True):
    move_id: str
    item_id: str
    location_id: str
    quantity: Decimal  # positive: how much left the shelf
    occurred_at: UtcMoment
    reference: str | None = None
    lot_no: str | None = None
    serial_no: str | None = None


class Transfer(msgspec.Struct, frozen=True):
    transfer_id: str
    out_move_id: str
    in_move_id: str
    item_id: str
    from_location_id: str
    to_location_id: str
    quantity: Decimal
    occurred_at: UtcMoment
    reference: str | None = None
    lot_no: str | None = None
    serial_no: str | None = None


class Adjust(msgspec.Struct, frozen=True):
    move_id: str
    item_id: str
    location_id: str
    quantity: Decimal  # signed correction
    occurred_at: UtcMoment
    reason: str


class Reverse(msgspec.Struct, frozen=True):
    reversal_id: str
    move_id: str
    occurred_at: UtcMoment
    reason: str


@mutation("inventory.receive", 1, Receive)
def receive(ctx: MutationContext, args: Receive) -> None:
    """Goods arrived at a location."""
    check_quantity(ctx, args.quantity)
    require_item(ctx, args.item_id)
    location = require_location(ctx, args.location_id)
    post_move(ctx, move_id=args.move_id, kind="receipt", item_id=args.item_id, location=location,
              quantity=args.quantity, occurred_at=args.occurred_at, reference=args.reference,
              lot_no=args.lot_no, serial_no=args.serial_no, unit_cost=args.unit_cost, expires_on=args.expires_on)


@mutation("inventory.issue", 1, Issue)
def issue(ctx: MutationContext, args: Issue) -> None:
    """Goods left a location (to production, a customer, scrap...)."""
    check_quantity(ctx, args.quantity)
    require_item(ctx, args.item_id)
    location = require_location(ctx, args.location_id)
    post_move(ctx, move_id=args.move_id, kind="issue", item_id=args.item_id, location=location,
              quantity=-args.quantity, occurred_at=args.occurred_at, reference=args.reference,
              lot_no=args.lot_no, serial_no=args.serial_no)


@mutation("inventory.transfer", 1, Transfer)
def transfer(ctx: MutationContext, args: Transfer) -> None:
    """Goods moved between two locations of one site: two legs with one document id."""
    check_quantity(ctx, args.quantity)
    if args.from_location_id == args.to_location_id:
        ctx.reject(errors.SAME_LOCATION, "a transfer needs two different locations")
    require_item(ctx, args.item_id)
    source = require_location(ctx, args.from_location_id)
    target = require_location(ctx, args.to_location_id)
    post_move(ctx, move_id=args.out_move_id, kind="transfer_out", item_id=args.item_id, location=source,
              quantity=-args.quantity, occurred_at=args.occurred_at, reference=args.reference,
              document_id=args.transfer_id, lot_no=args.lot_no, serial_no=args.serial_no)
    post_move(ctx, move_id=args.in_move_id, kind="transfer_in", item_id=args.item_id, location=target,
              quantity=args.quantity, occurred_at=args.occurred_at, reference=args.reference,
              document_id=args.transfer_id, lot_no=args.lot_no, serial_no=args.serial_no)


@mutation("inventory.adjust", 1, Adjust)
def adjust(ctx: MutationContext, args: Adjust) -> None:
    """A signed correction of on-hand with a reason (damage found, mislabelled goods...)."""
    check_quantity(ctx, args.quantity, allow_negative=True)
    require_item(ctx, args.item_id)
    location = require_location(ctx, args.location_id)
    post_move(ctx, move_id=args.move_id, kind="adjustment", item_id=args.item_id, location=location,
              quantity=args.quantity, occurred_at=args.occurred_at, reference=args.reason)


@mutation("inventory.reverse", 1, Reverse)
def reverse(ctx: MutationContext, args: Reverse) -> None:
    """Cancel a move by appending its negation; the original stays in the ledger."""
    original = ctx.get(stock_moves, id=args.move_id)
    if original is None:
        ctx.reject(errors.UNKNOWN_MOVE, "this move does not exist", move_id=args.move_id)
    if original["kind"] == "reversal":
        ctx.reject(errors.ALREADY_REVERSED, "a reversal cannot itself be reversed; post a new move")
    already = ctx.conn.execute(select(stock_moves.c.id).where(stock_moves.c.reverses_id == args.move_id)).first()
    if already is not None and already.id != args.reversal_id:
        ctx.reject(errors.ALREADY_REVERSED, "this move was already reversed", reversal_id=already.id)
    location = require_location(ctx, original["location_id"])
    post_move(ctx, move_id=args.reversal_id, kind="reversal", item_id=original["item_id"], location=location,
              quantity=-original["quantity"], occurred_at=args.occurred_at, reference=args.reason,
              reverses_id=args.move_id, lot_no=original["lot_no"], serial_no=original["serial_no"],
              unit_cost=original["unit_cost"])
