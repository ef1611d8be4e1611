"""On-hand quantity per item × location: derived from stock moves, kept incrementally.

Invariant: for every (item, location), ``on_hand.quantity`` equals the sum of the quantities of
its stock moves. It is updated in the same transaction as the move that changes it, so a
lookup reads one row and never sums the ledger. Devices hold an optimistic copy that the
server's copy replaces on every pull.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Table

from erp.inventory import errors
from erp.inventory.inventory_exception import flag_negative_stock
from erp.inventory.warehouse import warehouses
from sync.context import MutationContext
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType

on_hand = Table(
    "on_hand",
    metadata,
    Column("item_id", ID, ForeignKey("items.id"), primary_key=True),
    Column("location_id", ID, ForeignKey("locations.id"), primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("quantity", DecimalType, nullable=False),
    version_column(),
    Index("ix_on_hand_site_version", "site_id", "_version"),
    Index("ix_on_hand_site_key", "site_id", "item_id", "location_id"),  # bootstrap reads a site in key order
)


def apply_delta(
    ctx: MutationContext, *, location: Any, item_id: str, delta: Decimal, move_id: str
) -> Decimal:
    """Add ``delta`` to the on-hand of (item, location) and enforce the warehouse's policy.

    Returns the new quantity. A move that takes stock below zero is applied and flagged, or
    refused, as the warehouse's negative-stock policy says.
    """
    key = {"item_id": item_id, "location_id": location["id"]}
    current = ctx.get(on_hand, **key)
    before = current["quantity"] if current is not None else Decimal(0)
    after = before + delta
    if after < 0 and delta < 0:
        warehouse = ctx.get(warehouses, id=location["warehouse_id"])
        policy = warehouse["negative_stock_policy"] if warehouse is not None else "flag"
        if policy == "reject":
            ctx.reject(
                errors.NEGATIVE_STOCK,
                f"only {before} on hand; this move needs {-delta}",
                item_id=item_id,
                location_id=location["id"],
                on_hand=str(before),
                requested=str(-delta),
            )
        if policy == "flag":
            flag_negative_stock(
                ctx, site_id=location["site_id"], item_id=item_id, location_id=location["id"],
                quantity=after, move_id=move_id,
            )
    if current is None:
        ctx.insert(on_hand, {**key, "site_id": location["site_id"], "quantity": after})
    else:
        ctx.update(on_hand, key, {"quantity": after}, current=current)
    return after
