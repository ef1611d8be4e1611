"""Serial numbers (序列号): where each serial-tracked unit is, derived from the stock-move ledger.

``serial_numbers`` holds one row per (site, item, serial number): the location it lies in, or
no location once it has left, and the last move that touched it. The site is part of the key
because each site's rows replicate to that site's devices only and a device writes only its own
site's rows: a unit shipped from one site to another is "issued" at the first and "in_stock" at
the second, and the in-stock checks below hold per site. It is a derived table,
updated in the same transaction as each move (``record_serial_move``, called by
``stock_move.post_move``); the server's copy replaces the device's on every pull.

Invariants:
- A move of a serial-tracked item concerns one unit: its quantity is +1 or -1 and it names the
  serial. An incoming move (receipt, transfer in, return, reversal of an issue) puts the unit
  in stock at the move's location; an outgoing one takes it out.
- Receiving a serial already in stock, or taking out one that is not in stock at that location,
  breaks the record. On a device and at HQ it is refused (``inventory.serial_in_stock``,
  ``inventory.serial_not_in_stock``, ``inventory.serial_quantity``) so the user can rescan. On
  the server, a move pushed by a device already happened: it is applied — the unit is where
  the latest fact puts it — and an inventory exception of the same name is raised for review.
- A move of a serial-tracked item without a serial (a receipt against a purchase order, which
  names none) is recorded and flagged ``missing_serial``, never refused.

States::

    (none) ──in──▶ in_stock ──out──▶ issued ──in──▶ in_stock
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import Column, ForeignKey, Index, String, Table

from erp.inventory import errors
from erp.inventory.inventory_exception import flag, refuse_or_flag
from sync.context import MutationContext
from sync.schema import ID, metadata
from sync.specs import version_column

serial_numbers = Table(
    "serial_numbers",
    metadata,
    Column("site_id", ID, primary_key=True),
    Column("item_id", ID, ForeignKey("items.id"), primary_key=True),
    Column("serial_no", String(64), primary_key=True),
    Column("location_id", ID, ForeignKey("locations.id")),  # None once it has left stock
    Column("status", String(8), nullable=False),  # in_stock | issued
    Column("last_move_id", ID, nullable=False),
    version_column(),
    Index("ix_serial_numbers_site_version", "site_id", "_version"),
    Index("ix_serial_numbers_item_serial", "item_id", "serial_no"),  # where is this unit, across sites
)

# Moves whose mutation lets the user name a serial: only these are flagged when it is missing.
SERIAL_NAMING_KINDS = frozenset({"receipt", "issue", "transfer_out", "transfer_in", "wo_issue", "wo_top_up",
                                 "wo_return", "reversal"})


def record_serial_move(
    ctx: MutationContext, *, location: Mapping[str, Any], item: Mapping[str, Any], move_id: str, kind: str,
    quantity: Decimal, serial_no: str | None,
) -> None:
    """Apply the serial rules to a move just appended (see the module invariants)."""
    site_id, item_id, location_id = location["site_id"], item["id"], location["id"]
    facts = {"site_id": site_id, "item_id": item_id, "location_id": location_id, "move_id": move_id}
    if serial_no is None:
        if item["tracking"] == "serial" and kind in SERIAL_NAMING_KINDS:
            flag(ctx, kind="missing_serial", quantity=quantity, **facts)
        return
    if abs(quantity) != 1:
        refuse_or_flag(ctx, errors.SERIAL_QUANTITY, f"a serial number names one unit, not {abs(quantity)}",
                       kind="serial_quantity", quantity=quantity, serial_no=serial_no, **facts)
    key = {"site_id": site_id, "item_id": item_id, "serial_no": serial_no}
    current = ctx.get(serial_numbers, **key)
    incoming = quantity > 0
    if incoming and current is not None and current["status"] == "in_stock":
        refuse_or_flag(ctx, errors.SERIAL_IN_STOCK, f"serial {serial_no} is already in stock",
                       kind="serial_in_stock", quantity=quantity, serial_no=serial_no, **facts)
    if not incoming and (current is None or current["status"] != "in_stock"
                         or current["location_id"] != location_id):
        refuse_or_flag(ctx, errors.SERIAL_NOT_IN_STOCK, f"serial {serial_no} is not in stock here",
                       kind="serial_not_in_stock", quantity=quantity, serial_no=serial_no, **facts)
    values = {"location_id": location_id if incoming else None, "status": "in_stock" if incoming else "issued",
              "last_move_id": move_id}
    if current is None:
        ctx.insert(serial_numbers, {**key, **values})
    else:
        ctx.update(serial_numbers, key, values, current=current)
