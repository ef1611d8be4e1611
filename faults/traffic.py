"""Seeded warehouse traffic for one device: receipts, issues, transfers, counts and adjustments.

The crash trials and the fleet simulation drive devices with it, so every run does the work a
warehouse does, in proportions close to a real one: goods mostly arrive and leave, some move
between locations, a few are counted or corrected, and now and then a whole shelf is cleared
for a shipment. Issues are allowed to outrun stock (goods that left the shelf left it), which
makes negative-stock exceptions; two devices clearing the same shelf while apart make
rejections where a warehouse refuses negative stock.

Invariants:
- The stream depends only on the seed and the catalog: the same seed gives the same kinds,
  items, locations and quantities in the same order. Move ids are fresh UUIDv7s, since a
  replayed trial must not collide with ledger rows of an earlier one.
- Quantities are Decimals with at most three decimal places; times are UTC and come from the
  caller's clock (real or simulated).
- Every action names the stock moves it creates, so a checker can find each one in the ledger.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

import msgspec
from sqlalchemy import Connection, select

from erp.inventory.item import items
from erp.inventory.stock_count import Count
from erp.inventory.stock_move import Adjust, Issue, Receive, Transfer
from erp.inventory.warehouse import locations
from sync.ids import new_id

# Share of each action in the stream, in percent.
MIX = (("inventory.receive", 38), ("inventory.issue", 32), ("inventory.transfer", 15),
       ("inventory.count", 5), ("inventory.adjust", 5), ("clear_shelf", 5))

# Document references as people type them, rare characters (4-byte UTF-8) included.
REFERENCES = ("收货单 GR-{n}", "领料 {n}", "调拨 {n} 𠀀𪚥", "盘点 {n}", None)


@dataclass(frozen=True)
class Catalog:
    """The master data a device of one site works with, in a stable order."""

    site_id: str
    item_ids: tuple[str, ...]
    location_ids: tuple[str, ...]

    @classmethod
    def from_replica(cls, conn: Connection, site_id: str) -> "Catalog":
        item_ids = tuple(conn.execute(select(items.c.id).order_by(items.c.sku)).scalars())
        location_ids = tuple(conn.execute(
            select(locations.c.id).where(locations.c.site_id == site_id).order_by(locations.c.code)).scalars())
        if not item_ids or len(location_ids) < 2:
            raise ValueError(f"site {site_id} needs items and at least two locations for warehouse traffic")
        return cls(site_id, item_ids, location_ids)


@dataclass(frozen=True)
class Action:
    mutation: str
    args: msgspec.Struct
    move_ids: tuple[str, ...]  # the ledger rows it appends when applied

    def describe(self) -> dict[str, Any]:
        return {"mutation": self.mutation, "moves": list(self.move_ids)}


class WarehouseTraffic:
    def __init__(self, catalog: Catalog, seed: int, clock: Callable[[], datetime],
                 stock: Callable[[str, str], Decimal] | None = None) -> None:
        """``stock(item_id, location_id)`` is the on-hand the device sees; without it no shelf is cleared."""
        self.catalog = catalog
        self.stock = stock
        self.random = random.Random(seed)
        self.clock = clock
        self._names = [name for name, _ in MIX]
        self._weights = [weight for _, weight in MIX]
        self._counter = 0

    def _quantity(self, high: int = 50) -> Decimal:
        return Decimal(self.random.randint(1, high * 1000)) / 1000

    def _reference(self) -> str | None:
        template = self.random.choice(REFERENCES)
        self._counter += 1
        return None if template is None else template.format(n=self._counter)

    def next(self) -> Action:
        name = self.random.choices(self._names, self._weights)[0]
        item = self.random.choice(self.catalog.item_ids)
        location, other = self.random.sample(self.catalog.location_ids, 2)
        at = self.clock()
        if name == "clear_shelf":
            on_shelf = self.stock(item, location) if self.stock else Decimal(0)
            if on_shelf > 0:
                move = new_id()
                return Action("inventory.issue", Issue(move, item, location, on_shelf, at, "清空货位 clear shelf"),
                              (move,))
            name = "inventory.receive"
        if name == "inventory.receive":
            move = new_id()
            args = Receive(move, item, location, self._quantity(), at, self._reference())
            return Action(name, args, (move,))
        if name == "inventory.issue":
            move = new_id()
            args = Issue(move, item, location, self._quantity(40), at, self._reference())
            return Action(name, args, (move,))
        if name == "inventory.transfer":
            out_move, in_move = new_id(), new_id()
            args = Transfer(new_id(), out_move, in_move, item, location, other, self._quantity(20), at,
                            self._reference())
            return Action(name, args, (out_move, in_move))
        if name == "inventory.count":
            move = new_id()
            return Action(name, Count(move, item, location, self._quantity(100), at), (move,))
        move = new_id()
        quantity = self._quantity(5) * self.random.choice((1, -1))
        return Action(name, Adjust(move, item, location, quantity, at, "破损 damaged"), (move,))
