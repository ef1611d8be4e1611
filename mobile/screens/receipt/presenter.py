"""Goods receipt: scan the item (or its GS1-128 label), scan the location, type the quantity.

A GS1-128 label fills item (GTIN, matched against the item's barcode in GTIN-14, EAN-13,
UPC-A or EAN-8 form), lot (AI 10), expiry (AI 17) and quantity (AI 30/37) in one scan.
``inventory.receive`` has no lot or expiry field yet (lots arrive with supply chain), so they
are written into the receipt's reference as ``lot=…; expiry=YYYY-MM-DD`` after what the clerk
typed there; HQ sees them on the stock move.

After a save the location stays filled (a pallet of several items goes to one place) and the
focus goes back to the item.
"""

from __future__ import annotations

from datetime import date

from erp.inventory.stock_move import Receive
from mobile import gs1
from mobile.presenter import BadDate, Form, parse_quantity
from mobile.tablet import ItemRef, LocationRef
from sync.errors import JcerpError
from sync.ids import new_id


def compose_reference(reference: str, lot: str, expiry: str) -> str | None:
    parts = [reference.strip()] if reference.strip() else []
    if lot:
        parts.append(f"lot={lot}")
    if expiry:
        parts.append(f"expiry={expiry}")
    return "; ".join(parts) or None


class ReceiptPresenter(Form):
    FIELDS = ("item", "location", "quantity", "lot", "expiry", "reference")
    REQUIRED = ("item", "location", "quantity")
    STOPS = REQUIRED  # lot, expiry and reference are optional: after the quantity the receipt can be saved
    LABELS = {"item": "field.item", "location": "field.location", "quantity": "field.quantity", "lot": "field.lot",
              "expiry": "field.expiry", "reference": "field.reference"}

    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.item: ItemRef | None = None
        self.location: LocationRef | None = None
        self.last_seq: int | None = None

    def fill(self, name: str, text: str) -> None:
        text = text.strip()
        if name == "item":
            self._item(text)
        elif name == "location":
            self.location = self.tablet.find_location(text)
            self.values["location"] = self.location.label
        elif name == "quantity":
            self.values["quantity"] = str(parse_quantity(text))
        elif name == "expiry":
            if text:
                try:
                    date.fromisoformat(text)
                except ValueError:
                    raise BadDate(f"{text!r} is not YYYY-MM-DD") from None
            self.values["expiry"] = text
        else:
            self.values[name] = text

    def _item(self, text: str) -> None:
        label = None
        if gs1.looks_like_gs1(text):
            try:
                label = gs1.parse(text)
            except gs1.GS1Error as error:
                raise JcerpError(error.message, code=error.code) from None
            if label.gtin is None:
                raise JcerpError("the label has no GTIN (01)", code="gs1.unknown_ai")
            text = label.gtin
        self.item = self.tablet.find_item(text)
        self.values["item"] = self.item.label
        if label is not None:
            if label.lot:
                self.values["lot"] = label.lot
            if label.expiry:
                self.values["expiry"] = label.expiry.isoformat()
            if label.quantity:
                self.values["quantity"] = str(label.quantity)
            self.say("receipt.gs1", kind="info", lot=label.lot or "-",
                     expiry=label.expiry.isoformat() if label.expiry else "-")
        else:
            self.note = None

    def scan(self, name: str, text: str) -> str | None:
        if name == "item" and not text.strip() and self.item is not None:
            return self.next_after("item")
        return super().scan(name, text)

    def save(self) -> int | None:
        """Validate and apply the receipt locally (queued for sync). Returns its number."""
        try:
            self.require(*self.REQUIRED)
            if self.item is None or self.location is None:
                raise JcerpError("scan the item and the location", code="mobile.missing_field",
                                 field=self.t("field.item"))
            seq = self.tablet.run("inventory.receive", Receive(
                move_id=new_id(), item_id=self.item.id, location_id=self.location.id,
                quantity=parse_quantity(self.values["quantity"]), occurred_at=self.tablet.now(),
                reference=compose_reference(self.values["reference"], self.values["lot"], self.values["expiry"])))
        except JcerpError as error:
            self.fail(error)
            return None
        self.last_seq = seq
        self.item = None
        self.clear(keep=("location",))
        self.focus = "item"
        self.say("common.saved", seq=seq)
        return seq
