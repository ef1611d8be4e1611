"""Stock count: scan a location and an item, type what is on the shelf (``inventory.count``).

Once item and location are known the screen shows the quantity this tablet holds for them;
the server turns the count into the difference from its own on-hand when it applies it.
"""

from __future__ import annotations

from decimal import Decimal

from erp.inventory.stock_count import Count
from mobile.presenter import Form, parse_quantity
from mobile.tablet import ItemRef, LocationRef
from sync.errors import JcerpError
from sync.ids import new_id


class CountPresenter(Form):
    FIELDS = ("location", "item", "counted")
    REQUIRED = FIELDS
    LABELS = {"location": "field.location", "item": "field.item", "counted": "field.counted"}

    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.item: ItemRef | None = None
        self.location: LocationRef | None = None
        self.system_quantity: Decimal | None = None
        self.last_seq: int | None = None

    def fill(self, name: str, text: str) -> None:
        if name == "item":
            self.item = self.tablet.find_item(text)
            self.values["item"] = self.item.label
        elif name == "location":
            self.location = self.tablet.find_location(text)
            self.values["location"] = self.location.label
        else:
            self.values["counted"] = str(parse_quantity(text, allow_zero=True))
        if self.item is not None and self.location is not None:
            self.system_quantity = self.tablet.quantity_at(self.item.id, self.location.id)

    @property
    def system_text(self) -> str:
        return "" if self.system_quantity is None else self.t("count.system", quantity=self.system_quantity)

    def save(self) -> int | None:
        try:
            self.require(*self.REQUIRED)
            seq = self.tablet.run("inventory.count", Count(
                move_id=new_id(), item_id=self.item.id, location_id=self.location.id,
                counted_quantity=parse_quantity(self.values["counted"], allow_zero=True),
                occurred_at=self.tablet.now()))
        except JcerpError as error:
            self.fail(error)
            return None
        self.last_seq = seq
        self.item, self.system_quantity = None, None
        self.clear(keep=("location",))
        self.focus = "item"
        self.say("common.saved", seq=seq)
        return seq
