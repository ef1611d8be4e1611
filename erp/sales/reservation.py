"""Stock reservations: what a site has promised to customers and not yet delivered (预留).

One row per sales-order line in ``stock_reservations``, scoped to the order's shipping site,
and one total per item and site in ``reserved_stock``; both are kept by the sales module alone
(derived: devices hold the server's copy, and their optimistic one until the next pull).
Confirming an order reserves each line's undelivered quantity; a delivery lowers the line's
reservation by what left; cancelling or closing the order releases what is left. Availability
at a site is on-hand minus ``reserved_stock`` (availability.py), so a lookup reads one row
here however many orders hold the item — as ``on_hand`` spares it the stock-move ledger.

A reservation is a claim on the site's stock, not on particular bins or lots: it is made in
full even when the site holds less, and the availability then shows the shortage (below zero)
instead of the order being refused — whether stock suffices is for planning to fix, not a
reason to turn a customer's order away.

Invariants:
- While its order is confirmed, partially delivered or delivered, an open reservation holds
  max(ordered − delivered, 0) of its line; every other reservation holds 0 and is ``released``
  with the reason (``delivered``, ``cancelled``, ``closed``) and the moment.
- For every (item, site), ``reserved_stock.quantity`` equals the sum of the quantities of its
  reservations; both change in one transaction, through ``_hold`` only.
- A released reservation never opens again; returns do not reserve (a return does not reopen
  the order, see delivery.py).
- It changes in the same transaction as the confirmation, delivery or decision that moves it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import Column, Index, String, Table, select

from sync.context import MutationContext
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

RELEASE_REASONS = ("delivered", "cancelled", "closed")

stock_reservations = Table(
    "stock_reservations",
    metadata,
    Column("order_line_id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("order_id", ID, nullable=False, index=True),
    Column("item_id", ID, nullable=False),
    Column("quantity", DecimalType, nullable=False),  # still reserved; 0 once released
    Column("status", String(8), nullable=False),  # open | released
    Column("released_reason", String(16)),  # one of RELEASE_REASONS
    Column("reserved_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime),
    version_column(),
    Index("ix_stock_reservations_site_key", "site_id", "order_line_id"),  # bootstrap reads a site in key order
    # Lists of one item's open reservations at one site.
    Index("ix_stock_reservations_item_site_status", "item_id", "site_id", "status"),
)

reserved_stock = Table(
    "reserved_stock",
    metadata,
    Column("item_id", ID, primary_key=True),
    Column("site_id", ID, primary_key=True),
    Column("quantity", DecimalType, nullable=False),  # the sum of the item's reservations at the site
    version_column(),
    Index("ix_reserved_stock_site_key", "site_id", "item_id"),  # bootstrap reads a site in key order
)


def to_reserve(ordered: Decimal, delivered: Decimal) -> Decimal:
    """What a line of an open order keeps reserved: what is still to be delivered."""
    return max(ordered - delivered, Decimal(0))


def _released(reason: str, at: datetime) -> dict[str, Any]:
    return {"quantity": Decimal(0), "status": "released", "released_reason": reason, "released_at": at}


def _hold(ctx: MutationContext, *, site_id: str, item_id: str, before: Decimal, after: Decimal) -> None:
    """Move the item's total reserved at the site by what one reservation changed by."""
    delta = after - before
    if delta == 0:
        return
    key = {"item_id": item_id, "site_id": site_id}
    current = ctx.get(reserved_stock, **key)
    if current is None:
        ctx.insert(reserved_stock, {**key, "quantity": delta})
    else:
        ctx.update(reserved_stock, key, {"quantity": current["quantity"] + delta}, current=current)


def reserve(ctx: MutationContext, order: Any, lines: Iterable[Any], at: datetime) -> None:
    """Reserve every line's undelivered quantity at the order's site (on confirmation)."""
    for line in lines:
        amount = to_reserve(line["quantity"], line["delivered_quantity"])
        values = ({"quantity": amount, "status": "open", "released_reason": None, "released_at": None}
                  if amount > 0 else _released("delivered", at))
        current = ctx.get(stock_reservations, order_line_id=line["id"])
        if current is None:
            ctx.insert(stock_reservations, {"order_line_id": line["id"], "site_id": order["site_id"],
                                            "order_id": order["id"], "item_id": line["item_id"], "reserved_at": at,
                                            **values})
        else:
            ctx.update(stock_reservations, {"order_line_id": line["id"]}, values, current=current)
        _hold(ctx, site_id=order["site_id"], item_id=line["item_id"],
              before=current["quantity"] if current is not None else Decimal(0), after=amount)


def follow_delivery(ctx: MutationContext, line: Any, *, order_open: bool, at: datetime) -> None:
    """Lower a line's open reservation to what is still to be delivered after a delivery."""
    current = ctx.get(stock_reservations, order_line_id=line["id"])
    if current is None or current["status"] != "open":
        return
    amount = to_reserve(line["quantity"], line["delivered_quantity"]) if order_open else Decimal(0)
    if amount == current["quantity"]:
        return
    values = {"quantity": amount} if amount > 0 else _released("delivered", at)
    ctx.update(stock_reservations, {"order_line_id": line["id"]}, values, current=current)
    _hold(ctx, site_id=current["site_id"], item_id=current["item_id"], before=current["quantity"], after=amount)


def release(ctx: MutationContext, order_id: str, reason: str, at: datetime) -> None:
    """Release what the order still holds (it was cancelled or closed)."""
    if reason not in RELEASE_REASONS:
        raise ValueError(f"unknown release reason {reason}")
    held = ctx.conn.execute(select(stock_reservations).where(stock_reservations.c.order_id == order_id,
                                                             stock_reservations.c.status == "open")).mappings().all()
    for current in held:
        ctx.update(stock_reservations, {"order_line_id": current["order_line_id"]}, _released(reason, at),
                   current=current)
        _hold(ctx, site_id=current["site_id"], item_id=current["item_id"], before=current["quantity"],
              after=Decimal(0))
