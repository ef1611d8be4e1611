"""Put-away (上架): move received goods from the receiving location to a bin, as
``inventory.transfer``. Scan the item (a GS1-128 label also fills the lot), its lot when it is
lot-tracked, the location it comes from, the bin, and the quantity.

When the inventory module suggests a bin for the item (``suggest_putaway``), the screen shows
it, and Enter on the empty bin field takes it: the clerk who agrees scans nothing. Without a
suggestion (none configured, or an older device build) the clerk scans the bin as usual.

After a save the from-location stays filled: a receiving dock is emptied item after item.
"""

from __future__ import annotations

from erp.inventory.stock_move import Transfer
from mobile.documents import LotRequired, read_label
from mobile.presenter import Form, parse_quantity
from mobile.tablet import ItemRef, LocationRef
from sync.errors import JcerpError
from sync.ids import new_id


class PutawayPresenter(Form):
    FIELDS = ("item", "lot", "source", "target", "quantity")
    REQUIRED = ("item", "source", "target", "quantity")
    LABELS = {"item": "field.item", "lot": "field.lot", "source": "field.from", "target": "field.bin",
              "quantity": "field.quantity"}

    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.item: ItemRef | None = None
        self.locations: dict[str, LocationRef] = {}
        self.suggestion: LocationRef | None = None
        self.last_seq: int | None = None

    @property
    def STOPS(self) -> tuple[str, ...]:  # the lot is a stop only for lot-tracked items
        if self.item is not None and self.item.tracking == "lot":
            return self.FIELDS
        return self.REQUIRED

    def fill(self, name: str, text: str) -> None:
        text = text.strip()
        if name == "item":
            key, label = read_label(text)
            self.item = self.tablet.find_item(key)
            self.values["item"] = self.item.label
            if label is not None and label.lot:
                self.values["lot"] = label.lot
            if label is not None and label.quantity:
                self.values["quantity"] = str(label.quantity)
            self.suggestion = self.tablet.putaway_suggestion(self.item.id)
            self.note = None
        elif name in ("source", "target"):
            if name == "target" and not text and self.suggestion is not None:
                text = self.suggestion.id  # Enter on the empty bin field: the suggested bin
            location = self.tablet.find_location(text)
            self.locations[name] = location
            self.values[name] = location.label
        elif name == "quantity":
            self.values["quantity"] = str(parse_quantity(text))
        else:
            self.values[name] = text

    def scan(self, name: str, text: str) -> str | None:
        if name == "target" and not text.strip() and self.suggestion is None:
            self.focus = "target"
            return "target"
        return super().scan(name, text)

    def use_suggestion(self) -> None:
        """The "use the suggested bin" button."""
        if self.suggestion is not None:
            self.scan("target", "")

    @property
    def suggestion_text(self) -> str:
        if self.item is None:
            return ""
        if self.suggestion is None:
            return self.t("putaway.no_suggestion")
        return self.t("putaway.suggestion", location=self.suggestion.label)

    def save(self) -> int | None:
        try:
            self.require(*self.REQUIRED)
            if self.item.tracking == "lot" and not self.values["lot"]:
                self.focus = "lot"
                raise LotRequired(f"{self.item.sku} is lot-tracked", item=self.item.sku)
            seq = self.tablet.run("inventory.transfer", Transfer(
                transfer_id=new_id(), out_move_id=new_id(), in_move_id=new_id(), item_id=self.item.id,
                from_location_id=self.locations["source"].id, to_location_id=self.locations["target"].id,
                quantity=parse_quantity(self.values["quantity"]), occurred_at=self.tablet.now(),
                reference="putaway", lot_no=self.values["lot"] or None))
        except JcerpError as error:
            self.fail(error)
            return None
        self.last_seq = seq
        self.item, self.suggestion = None, None
        self.clear(keep=("source",))
        self.focus = "item"
        self.say("common.saved", seq=seq)
        return seq
