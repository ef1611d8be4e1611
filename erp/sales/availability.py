"""Availability of an item at a site: on-hand minus what is reserved for customers there.

``compute`` is the rule, pure and tested with hypothesis; ``availability`` reads one item at
one site for the HQ API, the edge CLI and the benchmark (target: ≤ 5 ms). On-hand is summed
over the site's locations from the derived ``on_hand`` table (never the ledger), and what is
reserved is the item's one ``reserved_stock`` row at the site (never the reservations,
reservation.py). Both reads use an index that starts with exactly what they filter on, so a
lookup reads a handful of rows however many items, moves and orders the company has.

Invariants:
- available = Σ on-hand − Σ open reservations; it may be below zero (promised more than held),
  which ``shortage`` states as a positive quantity.
- What is reserved is the sum of the item's reservations at the site, which ``reserved_stock``
  keeps (released reservations hold 0).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Iterable

import msgspec
from sqlalchemy import Connection, bindparam, literal, select, union_all

from erp.inventory.on_hand import on_hand
from erp.sales.reservation import reserved_stock

ZERO = Decimal(0)


class Stock(msgspec.Struct, frozen=True):
    on_hand: Decimal
    reserved: Decimal
    available: Decimal

    @property
    def shortage(self) -> Decimal:
        return max(-self.available, ZERO)


class AvailabilityView(msgspec.Struct):
    site_id: str
    item_id: str
    on_hand: Decimal  # summed over the site's locations
    reserved: Decimal  # open reservations of the site's orders
    available: Decimal  # on_hand − reserved; below zero when more is promised than held
    shortage: Decimal  # max(−available, 0)


def compute(on_hand_quantities: Iterable[Decimal], reserved_quantities: Iterable[Decimal]) -> Stock:
    """The availability of one item at one site from its on-hand rows and open reservations."""
    held = sum(on_hand_quantities, ZERO)
    reserved = sum(reserved_quantities, ZERO)
    return Stock(held, reserved, held - reserved)


def view(site_id: str, item_id: str, stock: Stock) -> AvailabilityView:
    return AvailabilityView(site_id, item_id, stock.on_hand, stock.reserved, stock.available, stock.shortage)


@functools.cache
def _lookup():
    """One statement, built once: the item's on-hand rows and its reserved total at the site."""
    held = (select(literal("h").label("what"), on_hand.c.quantity)
            .where(on_hand.c.site_id == bindparam("site_id"), on_hand.c.item_id == bindparam("item_id")))
    reserved = (select(literal("r").label("what"), reserved_stock.c.quantity)
                .where(reserved_stock.c.item_id == bindparam("item_id"),
                       reserved_stock.c.site_id == bindparam("site_id")))
    return union_all(held, reserved)


def availability(conn: Connection, item_id: str, site_id: str) -> AvailabilityView:
    """Availability of ``item_id`` at ``site_id`` (zeros for an item the site never held)."""
    rows = conn.execute(_lookup(), {"item_id": item_id, "site_id": site_id}).all()
    # Summed here, not in SQL: SQLite keeps Decimals as text, whose SQL sum goes through floats.
    stock = compute((q for what, q in rows if what == "h"), (q for what, q in rows if what == "r"))
    return view(site_id, item_id, stock)
