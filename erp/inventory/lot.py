"""Lots (批次): expiry, hold and release, and on-hand per lot, derived from the stock-move ledger.

A lot is known per site: ``lots`` holds its expiry and whether it is held; ``lot_on_hand`` holds
how much of it lies in each location. Both are derived tables: the device keeps an optimistic
copy and the server's copy replaces it on every pull.

Invariants:
- For every (item, location, lot), ``lot_on_hand.quantity`` equals the sum of the quantities of
  the stock moves naming that lot there; it is updated in the same transaction as the move
  (``record_lot_move``, called by ``stock_move.post_move``). Moves without a lot are not in it.
- A receipt naming a lot the site does not know registers it. Its expiry is the one on the
  goods (``expires_on``), else the item's ``shelf_life_days`` after the receipt's date, else
  none. A later receipt of the same lot keeps the expiry first registered.
- "A held lot cannot be picked or issued." An outgoing move (issue, delivery, transfer out,
  work-order issue) of a held lot is refused with ``inventory.lot_on_hold`` on a device and at
  HQ, where the user can pick another lot. On the server, a move pushed by a device is a
  physical fact the device recorded without knowing of the hold (it was offline): it stands,
  and a ``held_lot_moved`` inventory exception brings it to a reviewer. Returning a held lot to
  its supplier, scrapping it (an adjustment) or counting it is never refused: that is what is
  done with a held lot.
- A move of a lot-tracked item without a lot is recorded and flagged (``missing_lot``), never
  refused: the goods moved whether or not the label was scanned.
- A hold can be placed on a lot the site has not received yet (a supplier's recall notice
  names it first); it is registered held, without expiry.

States::

    released ──place_hold──▶ held ──release_hold──▶ released

``place_hold``, ``release_hold`` and ``is_held`` are the interface other modules (quality
inspection) use; ``inventory.hold_lot`` / ``inventory.release_lot`` are the same rules as
mutations, for HQ and devices.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Mapping

import msgspec
from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, Text

from erp.inventory import errors
from erp.inventory.inventory_exception import flag, refuse_or_flag
from erp.inventory.item import items
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

lots = Table(
    "lots",
    metadata,
    Column("site_id", ID, primary_key=True),
    Column("item_id", ID, ForeignKey("items.id"), primary_key=True),
    Column("lot_no", String(64), primary_key=True),
    Column("expires_on", Date),  # last day the lot may be used; None: does not expire or unknown
    Column("status", String(8), nullable=False, default="released", server_default="released"),  # released | held
    Column("hold_reason", Text),  # why the current or last hold was placed
    Column("held_at", UtcDateTime),
    Column("held_by", String(120)),
    Column("release_reason", Text),  # why the last hold was lifted
    Column("received_at", UtcDateTime),  # the first receipt; None for a lot held before it arrived
    version_column(),
    Index("ix_lots_site_version", "site_id", "_version"),
    Index("ix_lots_item_expiry", "item_id", "expires_on"),  # FEFO: a site's lots of an item by expiry
)

lot_on_hand = Table(
    "lot_on_hand",
    metadata,
    Column("item_id", ID, ForeignKey("items.id"), primary_key=True),
    Column("location_id", ID, ForeignKey("locations.id"), primary_key=True),
    Column("lot_no", String(64), primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("quantity", DecimalType, nullable=False),
    version_column(),
    Index("ix_lot_on_hand_site_version", "site_id", "_version"),
    # bootstrap reads a site in key order; FEFO reads a site's lots of one item
    Index("ix_lot_on_hand_site_key", "site_id", "item_id", "location_id", "lot_no"),
)

TRANSITIONS = {"released": frozenset({"held"}), "held": frozenset({"released"})}

# Moves that pick goods for use or for elsewhere: a held lot may not leave by these.
PICK_KINDS = frozenset({"issue", "transfer_out", "wo_issue", "wo_top_up"})
# Moves whose mutation lets the user name a lot: only these are flagged when it is missing.
LOT_NAMING_KINDS = frozenset({"receipt", "issue", "transfer_out", "transfer_in", "wo_issue", "wo_top_up",
                              "wo_return"})


def _transition(ctx: MutationContext, lot: Mapping[str, Any], to: str, values: dict[str, Any]) -> None:
    if to not in TRANSITIONS[lot["status"]]:
        code = errors.LOT_ALREADY_HELD if to == "held" else errors.LOT_NOT_HELD
        ctx.reject(code, f"lot {lot['lot_no']} is {lot['status']}", lot_no=lot["lot_no"], item_id=lot["item_id"],
                   site_id=lot["site_id"])
    key = {"site_id": lot["site_id"], "item_id": lot["item_id"], "lot_no": lot["lot_no"]}
    ctx.update(lots, key, {**values, "status": to}, current=lot)


def place_hold(ctx: MutationContext, *, site_id: str, item_id: str, lot_no: str, reason: str) -> None:
    """Hold a lot: it may not be picked or issued until released. Registers an unknown lot held."""
    now = datetime.now(timezone.utc)
    lot = ctx.get(lots, site_id=site_id, item_id=item_id, lot_no=lot_no)
    if lot is None:
        if ctx.get(items, id=item_id) is None:
            ctx.reject(errors.UNKNOWN_ITEM, "this item does not exist", item_id=item_id)
        ctx.insert(lots, {"site_id": site_id, "item_id": item_id, "lot_no": lot_no, "expires_on": None,
                          "status": "held", "hold_reason": reason, "held_at": now, "held_by": ctx.actor.user,
                          "release_reason": None, "received_at": None})
        return
    _transition(ctx, lot, "held", {"hold_reason": reason, "held_at": now, "held_by": ctx.actor.user})


def release_hold(ctx: MutationContext, *, site_id: str, item_id: str, lot_no: str, reason: str) -> None:
    """Lift the hold on a lot; the hold's reason stays for the record beside the release's."""
    lot = ctx.get(lots, site_id=site_id, item_id=item_id, lot_no=lot_no)
    if lot is None:
        ctx.reject(errors.UNKNOWN_LOT, f"lot {lot_no} is not known at this site", lot_no=lot_no, item_id=item_id,
                   site_id=site_id)
    _transition(ctx, lot, "released", {"release_reason": reason})


def is_held(ctx: MutationContext, *, site_id: str, item_id: str, lot_no: str) -> bool:
    lot = ctx.get(lots, site_id=site_id, item_id=item_id, lot_no=lot_no)
    return lot is not None and lot["status"] == "held"


def default_expiry(item: Mapping[str, Any], occurred_at: datetime) -> date | None:
    """The expiry of a lot whose goods show none: shelf life counted from the receipt's UTC date."""
    days = item["shelf_life_days"]
    return occurred_at.astimezone(timezone.utc).date() + timedelta(days=days) if days else None


def record_lot_move(
    ctx: MutationContext, *, location: Mapping[str, Any], item: Mapping[str, Any], move_id: str, kind: str,
    quantity: Decimal, lot_no: str | None, occurred_at: datetime, expires_on: date | None,
    may_move_held: bool = False,
) -> None:
    """Apply the lot rules to a move just appended (see the module invariants).

    ``may_move_held``: the move takes a held lot where it belongs (back to its supplier).
    """
    site_id, item_id, location_id = location["site_id"], item["id"], location["id"]
    if lot_no is None:
        if item["tracking"] == "lot" and kind in LOT_NAMING_KINDS:
            flag(ctx, kind="missing_lot", site_id=site_id, item_id=item_id, location_id=location_id,
                 quantity=quantity, move_id=move_id)
        return
    lot = ctx.get(lots, site_id=site_id, item_id=item_id, lot_no=lot_no)
    if lot is None and quantity > 0:
        ctx.insert(lots, {"site_id": site_id, "item_id": item_id, "lot_no": lot_no,
                          "expires_on": expires_on or default_expiry(item, occurred_at), "status": "released",
                          "hold_reason": None, "held_at": None, "held_by": None, "release_reason": None,
                          "received_at": occurred_at})
    elif lot is not None and lot["received_at"] is None and quantity > 0:
        # A lot held before it arrived learns its expiry and arrival from its first receipt.
        ctx.update(lots, {"site_id": site_id, "item_id": item_id, "lot_no": lot_no},
                   {"expires_on": lot["expires_on"] or expires_on or default_expiry(item, occurred_at),
                    "received_at": occurred_at}, current=lot)
    after = _apply_lot_delta(ctx, location=location, item_id=item_id, lot_no=lot_no, delta=quantity)
    if (lot is not None and lot["status"] == "held" and quantity < 0 and kind in PICK_KINDS
            and not may_move_held):
        refuse_or_flag(ctx, errors.LOT_ON_HOLD, f"lot {lot_no} is on hold: {lot['hold_reason'] or ''}".strip(),
                       kind="held_lot_moved", site_id=site_id, item_id=item_id, location_id=location_id,
                       quantity=after, move_id=move_id, lot_no=lot_no)


def _apply_lot_delta(ctx: MutationContext, *, location: Mapping[str, Any], item_id: str, lot_no: str,
                     delta: Decimal) -> Decimal:
    key = {"item_id": item_id, "location_id": location["id"], "lot_no": lot_no}
    current = ctx.get(lot_on_hand, **key)
    if current is None:
        ctx.insert(lot_on_hand, {**key, "site_id": location["site_id"], "quantity": delta})
        return delta
    after = current["quantity"] + delta
    ctx.update(lot_on_hand, key, {"quantity": after}, current=current)
    return after


class HoldLot(msgspec.Struct, frozen=True):
    site_id: str
    item_id: str
    lot_no: str
    reason: str


class ReleaseLot(HoldLot, frozen=True):
    """The same fields as a hold: which lot, and why it is released."""


@mutation("inventory.hold_lot", 1, HoldLot)
def hold_lot(ctx: MutationContext, args: HoldLot) -> None:
    """Put a lot on hold (冻结): it may not be picked until released."""
    place_hold(ctx, site_id=args.site_id, item_id=args.item_id, lot_no=args.lot_no, reason=args.reason)


@mutation("inventory.release_lot", 1, ReleaseLot)
def release_lot(ctx: MutationContext, args: ReleaseLot) -> None:
    """Release a held lot (解冻)."""
    release_hold(ctx, site_id=args.site_id, item_id=args.item_id, lot_no=args.lot_no, reason=args.reason)
