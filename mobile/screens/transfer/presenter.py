"""Transfer: move stock between two locations of this site (``inventory.transfer``)."""

from __future__ import annotations

from erp.inventory.stock_move import Transfer
from mobile.presenter import Form, parse_quantity
from mobile.tablet import ItemRef, LocationRef
from sync.errors import JcerpError
from sync.ids import new_id


class TransferPresenter(Form):
    FIELDS = ("item", "source", "target", "quantity", "reference")
    REQUIRED = ("item", "source", "target", "quantity")
    STOPS = REQUIRED
    LABELS = {"item": "field.item", "source": "field.from", "target": "field.to", "quantity": "field.quantity",
              "reference": "field.reference"}

    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.item: ItemRef | None = None
        self.locations: dict[str, LocationRef] = {}
        self.last_seq: int | None = None

    def fill(self, name: str, text: str) -> None:
        if name == "item":
            self.item = self.tablet.find_item(text)
            self.values["item"] = self.item.label
        elif name in ("source", "target"):
            location = self.tablet.find_location(text)
            self.locations[name] = location
            self.values[name] = location.label
        elif name == "quantity":
            self.values["quantity"] = str(parse_quantity(text))
        else:
            self.values[name] = text.strip()

    def save(self) -> int | None:
        try:
            self.require(*self.REQUIRED)
            seq = self.tablet.run("inventory.transfer", Transfer(
                transfer_id=new_id(), out_move_id=new_id(), in_move_id=new_id(), item_id=self.item.id,
                from_location_id=self.locations["source"].id, to_location_id=self.locations["target"].id,
                quantity=parse_quantity(self.values["quantity"]), occurred_at=self.tablet.now(),
                reference=self.values["reference"] or None))
        except JcerpError as error:
            self.fail(error)
            return None
        self.last_seq = seq
        self.item = None
        self.clear(keep=("source", "target"))
        self.focus = "item"
        self.say("common.saved", seq=seq)
        return seq
