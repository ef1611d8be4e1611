"""Put-away (上架): which storage bin received goods should go to.

A suggestion only, read from on-hand: the storage bin of the site that already holds the most
of the item (keeping an item together makes it easy to find and to count), else the first empty
storage bin by code, else nothing. Receiving, shipping and line-side locations are never
suggested. Putting away is an ``inventory.transfer`` from the dock to the bin; whatever bin the
clerk chooses stands.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
from sqlalchemy import Connection, select

from erp.inventory.on_hand import on_hand
from erp.inventory.warehouse import locations


class PutawaySuggestion(msgspec.Struct, frozen=True):
    location_id: str
    code: str
    name: str
    reason: str  # holds_item: the bin already holds some of the item | empty: an empty storage bin
    on_hand: Decimal  # how much of the item the bin holds now


def suggest_putaway(conn: Connection, *, site_id: str, item_id: str) -> PutawaySuggestion | None:
    bins = conn.execute(
        select(locations.c.id, locations.c.code, locations.c.name)
        .where(locations.c.site_id == site_id, locations.c.kind == "storage")
        .order_by(locations.c.code, locations.c.id)
    ).all()
    if not bins:
        return None
    # Sums in Python: SQLite keeps decimals as text.
    held: dict[str, Decimal] = {}
    of_item: dict[str, Decimal] = {}
    for row in conn.execute(select(on_hand.c.location_id, on_hand.c.item_id, on_hand.c.quantity)
                            .where(on_hand.c.site_id == site_id)):
        if row.quantity > 0:
            held[row.location_id] = held.get(row.location_id, Decimal(0)) + row.quantity
            if row.item_id == item_id:
                of_item[row.location_id] = row.quantity
    holding = [b for b in bins if b.id in of_item]
    if holding:
        best = max(holding, key=lambda b: of_item[b.id])  # max keeps the first (lowest code) on ties
        return PutawaySuggestion(best.id, best.code, best.name, "holds_item", of_item[best.id])
    for b in bins:
        if b.id not in held:
            return PutawaySuggestion(b.id, b.code, b.name, "empty", Decimal(0))
    return None
