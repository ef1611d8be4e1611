"""Item and stock lookup: type or scan a SKU, a barcode, part of a name or its pinyin initials;
pick a result to see what this site holds of it, location by location (from the replica).

Results come from the tablet's item index (``mobile/item_index.py``); while it is still being
built the screen says so and answers exact SKU and barcode matches only, then searches again
when it is ready.
"""

from __future__ import annotations

from decimal import Decimal

from mobile.item_index import IndexedItem
from mobile.presenter import Presenter


class LookupPresenter(Presenter):
    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.query = ""
        self.results: list[IndexedItem] = []
        self.selected: IndexedItem | None = None
        self.stock: list[tuple[str, str, Decimal]] = []

    @property
    def indexing(self) -> bool:
        return not self.tablet.index_ready.is_set()

    def search(self, text: str) -> list[IndexedItem]:
        self.query = text.strip()
        self.results = self.tablet.search_items(self.query) if self.query else []
        self.selected, self.stock = None, []
        if len(self.results) == 1:
            self.select(0)
            return self.results
        if self.indexing:
            self.say("lookup.indexing", kind="info")
        elif self.query:
            self.say("lookup.results" if self.results else "lookup.none", kind="info", count=len(self.results))
        self.changed()
        return self.results

    def index_ready(self) -> None:
        """The index finished building: search again for what is typed."""
        if self.query:
            self.search(self.query)

    def select(self, position: int) -> None:
        self.selected = self.results[position]
        self.stock = self.tablet.stock_of(self.selected.id)
        self.say("lookup.results", kind="info", count=len(self.results))

    @property
    def stock_lines(self) -> list[str]:
        if self.selected is None:
            return []
        if not self.stock:
            return [self.t("lookup.no_stock")]
        return [self.t("lookup.on_hand", location=f"{code} {name}", quantity=f"{quantity.normalize():f}")
                for code, name, quantity in self.stock]
