"""Goods receipt against a purchase order (采购收货): choose an open order of the site, scan the
item (a GS1-128 label fills item, lot, expiry and quantity), quantity, lot, expiry, location →
``purchasing.receive_po`` on the order's line for that item.

Each line shows what was ordered, received (net of returns) and what remains. Receiving more
than remains is warned about on screen and still recorded: goods on the dock are a fact, and
the server raises an over-receipt exception for the buyer when the order's tolerance is passed.

Lot-tracked items need a lot and an expiry; an item with a shelf life gets its expiry filled in
(today + shelf life), which the clerk may overwrite from the label. After a save the order and
the location stay chosen for the next line of the same delivery.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from erp.purchasing.goods_receipt import ReceivePurchaseOrder
from mobile.documents import DocumentForm, quantity_text
from mobile.presenter import MissingField, parse_quantity
from sync.errors import JcerpError
from sync.ids import new_id


class PoReceiptPresenter(DocumentForm):
    KIND = "purchase"
    NOT_FOUND_CODE = "edge.unknown_po"
    FIELDS = ("order", "item", "quantity", "lot", "expiry", "location")
    REQUIRED = ("order", "item", "quantity", "location")
    LOCATION_FIELDS = ("location",)
    LABELS = {"order": "field.po", "item": "field.item", "quantity": "field.quantity", "lot": "field.lot",
              "expiry": "field.expiry", "location": "field.location"}

    @property
    def STOPS(self) -> tuple[str, ...]:  # lot and expiry are stops only for lot-tracked items
        if self.item is not None and self.item.tracking == "lot":
            return self.FIELDS
        return self.REQUIRED

    def line_chosen(self) -> None:
        item = self.item
        if item.tracking == "lot" and item.shelf_life_days and not self.values["expiry"]:
            today = self.tablet.now().date()
            self.values["expiry"] = (today + timedelta(days=item.shelf_life_days)).isoformat()

    def over_receipt(self) -> Decimal | None:
        """How much the typed quantity goes beyond what remains on the line, if it does."""
        if self.line is None or not self.values["quantity"]:
            return None
        excess = Decimal(self.values["quantity"]) - self.line.remaining
        return excess if excess > 0 else None

    def fill(self, name: str, text: str) -> None:
        super().fill(name, text)
        if name in ("item", "quantity") and self.over_receipt() is not None:
            self.say("po_receipt.over", kind="warn", remaining=quantity_text(self.line.remaining),
                     quantity=self.values["quantity"])

    @property
    def line_hint(self) -> str:
        if self.line is None:
            return ""
        return self.t("po_receipt.line", line=self.line.line_no, remaining=quantity_text(self.line.remaining))

    def save(self) -> int | None:
        """Record the receipt locally (queued for sync). Returns its number."""
        try:
            order, line, item = self.require_line()
            if item.tracking == "lot" and not self.values["expiry"]:
                self.focus = "expiry"
                raise MissingField("expiry is empty", field=self.t("field.expiry"))
            quantity = parse_quantity(self.values["quantity"])
            over = self.over_receipt()
            seq = self.tablet.run("purchasing.receive_po", ReceivePurchaseOrder(
                receipt_id=new_id(), move_id=new_id(), po_line_id=line.id, location_id=self.locations["location"].id,
                quantity=quantity, occurred_at=self.tablet.now(), lot_no=self.values["lot"] or None,
                expires_on=date.fromisoformat(self.values["expiry"]) if self.values["expiry"] else None))
        except JcerpError as error:
            self.fail(error)
            return None
        if over is not None:
            return self.saved(seq, keep=("order", "location"), key="po_receipt.saved_over",
                              kind="warn", excess=quantity_text(over))
        return self.saved(seq, keep=("order", "location"))
