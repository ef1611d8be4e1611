"""What the screens need from the device, in one place: the edge client, lookups in the local
replica, the item search index, and the clerk signed in.

Everything here works offline: lookups read the local replica, work is applied locally and
queued by ``EdgeClient.run``; only ``sign_in`` and ``sync_now`` talk to the server (and fall
back or report when it cannot be reached).

Invariants:
- No Kivy import: presenters and their tests use this with a real ``EdgeClient`` and no window.
- Only ``EdgeClient``'s public methods and the replica's public lookups are used.
- The item index is built on a background thread (``start_index``); until it is ready, a search
  answers exact SKU and barcode matches from the replica, and ``index_ready`` says so.
- The index is rebuilt when the items table changed (count or highest ``_version``), which a
  sync that pulled new master data does.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import func, select

from edge_client.client import EdgeClient, SyncReport
from edge_client.floor_queries import (
    Document, Pick, Plan, inspection_plans_for, inspection_verdict, latest_receipt, pick_suggestions,
    purchase_orders_of, putaway_suggestion, sales_orders_of, work_orders_of,
)
from edge_client.lookup import NotFoundLocally, find_item, find_location
from edge_client.sign_in import TabletUser
from erp.inventory.item import items
from erp.inventory.on_hand import on_hand
from erp.inventory.warehouse import locations
from mobile import gs1
from mobile.item_index import IndexedItem, ItemIndex


@dataclass(frozen=True)
class ItemRef:
    id: str
    sku: str
    name: str
    unit_code: str
    barcode: str | None
    tracking: str = "none"  # none | lot | serial: whether its moves name a lot or a serial number
    shelf_life_days: int | None = None  # a received lot's default expiry, for lot-tracked items

    @property
    def label(self) -> str:
        return f"{self.sku}  {self.name}"


@dataclass(frozen=True)
class LocationRef:
    id: str
    code: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.code}  {self.name}"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Tablet:
    def __init__(self, client: EdgeClient, *, now: Callable[[], datetime] = utc_now) -> None:
        self.client = client
        self.now = now
        self._index: ItemIndex | None = None
        self._index_mark: tuple[int, int] | None = None
        self._index_lock = threading.Lock()
        self.index_ready = threading.Event()
        self.index_seconds: float | None = None  # how long the last build took
        self.on_index_ready: Callable[[], None] | None = None

    # -- who and where -------------------------------------------------------------------

    @property
    def site_id(self) -> str:
        return self.client.identity.site_id

    def user(self) -> TabletUser | None:
        return self.client.current_user()

    def may(self, permission: str) -> bool:
        user = self.user()
        return user is not None and user.may(permission)

    # -- lookups in the replica ----------------------------------------------------------

    def find_item(self, text: str) -> ItemRef:
        """An item by SKU, barcode or id; a GTIN also matches the EAN-13/UPC/EAN-8 it pads."""
        text = text.strip()
        candidates = gs1.gtin_candidates(text) if text.isdigit() and len(text) == 14 else [text]
        with self.client.engine.begin() as conn:
            for candidate in candidates:
                try:
                    row = find_item(conn, candidate)
                except NotFoundLocally:
                    continue
                return ItemRef(row.id, row.sku, row.name, row.unit_code, row.barcode, row.tracking,
                               row.shelf_life_days)
        raise NotFoundLocally(f"no item with SKU, barcode or id {text!r} on this device", text=text)

    def find_location(self, text: str) -> LocationRef:
        with self.client.engine.begin() as conn:
            try:
                row = find_location(conn, text.strip(), self.site_id)
            except NotFoundLocally:
                raise NotFoundLocally(f"no location {text!r} in this device's site", text=text) from None
        return LocationRef(row.id, row.code, row.name)

    def quantity_at(self, item_id: str, location_id: str) -> Decimal:
        with self.client.engine.begin() as conn:
            value = conn.execute(select(on_hand.c.quantity).where(
                on_hand.c.item_id == item_id, on_hand.c.location_id == location_id)).scalar()
        return value if value is not None else Decimal(0)

    def documents(self, kind: str, number: str | None = None) -> list[Document]:
        """The site's open ``purchase``, ``sales`` or ``work`` orders; with ``number``, that one in any state."""
        read = {"purchase": purchase_orders_of, "sales": sales_orders_of, "work": work_orders_of}[kind]
        with self.client.engine.begin() as conn:
            return read(conn, self.site_id, number=number)

    def pick_suggestions(self, item_id: str, quantity: Decimal) -> list[Pick]:
        with self.client.engine.begin() as conn:
            return pick_suggestions(conn, site_id=self.site_id, item_id=item_id, quantity=quantity)

    def putaway_suggestion(self, item_id: str) -> LocationRef | None:
        with self.client.engine.begin() as conn:
            found = putaway_suggestion(conn, site_id=self.site_id, item_id=item_id)
        return self.find_location(found[0]) if found else None

    def inspection_plans(self, item_id: str) -> list[Plan]:
        with self.client.engine.begin() as conn:
            return inspection_plans_for(conn, item_id)

    def latest_receipt(self, item_id: str, lot_no: str | None) -> str | None:
        with self.client.engine.begin() as conn:
            return latest_receipt(conn, self.site_id, item_id, lot_no)

    def inspection_verdict(self, result_id: str) -> tuple[str, str | None] | None:
        with self.client.engine.begin() as conn:
            return inspection_verdict(conn, result_id)

    def stock_of(self, item_id: str) -> list[tuple[str, str, Decimal]]:
        """(location code, location name, quantity) of an item in this site, by location code."""
        query = (select(locations.c.code, locations.c.name, on_hand.c.quantity)
                 .join(locations, locations.c.id == on_hand.c.location_id)
                 .where(on_hand.c.item_id == item_id, on_hand.c.site_id == self.site_id)
                 .order_by(locations.c.code))
        with self.client.engine.begin() as conn:
            return [(r.code, r.name, r.quantity) for r in conn.execute(query)]

    # -- the search index ----------------------------------------------------------------

    def _items_mark(self) -> tuple[int, int]:
        with self.client.engine.begin() as conn:
            count, version = conn.execute(select(func.count(), func.max(items.c._version))).one()
        return int(count), int(version or 0)

    def build_index(self) -> ItemIndex:
        """Read every active item and index it (about a second per 100,000). Changes state."""
        started = time.perf_counter()
        with self._index_lock:
            mark = self._items_mark()
            if self._index is not None and mark == self._index_mark:
                return self._index
            with self.client.engine.begin() as conn:
                rows = conn.execute(select(items.c.id, items.c.sku, items.c.name, items.c.barcode, items.c.unit_code)
                                    .where(items.c.active.is_not(False))).all()
            index = ItemIndex(tuple(row) for row in rows)
            self._index, self._index_mark = index, mark
            self.index_seconds = time.perf_counter() - started
        self.index_ready.set()
        if self.on_index_ready is not None:
            self.on_index_ready()
        return index

    def start_index(self) -> threading.Thread:
        """Build (or refresh) the index on a background thread."""
        thread = threading.Thread(target=self.build_index, name="jcerp-item-index", daemon=True)
        thread.start()
        return thread

    def search_items(self, text: str, limit: int = 30) -> list[IndexedItem]:
        """Ranked matches from the index; before it is ready, the exact SKU/barcode match only."""
        index = self._index
        if index is not None:
            return index.search(text, limit)
        try:
            item = self.find_item(text)
        except NotFoundLocally:
            return []
        return [IndexedItem(item.id, item.sku, item.name, item.barcode, item.unit_code, "")]

    # -- work and sync -------------------------------------------------------------------

    def run(self, name: str, args: Any) -> int:
        """Apply a mutation locally as the signed-in user and queue it. Returns its number."""
        return self.client.run(name, args)

    def sync_now(self, progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """One sync (bootstrap if needed, push, pull); refreshes the index if items changed."""
        report = self.client.sync_once(progress=progress)
        if self._index is not None and self._items_mark() != self._index_mark:
            self.start_index()
        return report
