"""What the warehouse and shop-floor screens share: a form worked against an order's lines.

A clerk chooses an open order (tap it in the list, or scan its number into the ``order``
field), then scans an item: the scan chooses the order's line for that item (the first one
still open). Scanning an item before choosing an order chooses the one open order that has it
when there is exactly one. A GS1-128 label fills item, lot, expiry and quantity in one scan.

Lists are read when the screen is shown (``enter``), never at start-up: a site has a few dozen
open orders, not the 100,000 items.

Invariants:
- No Kivy import (presenters are tested without a window).
- An item that is not on the chosen order is refused on the tablet (``mobile.not_on_order``):
  the mutation would be refused too, or, for a receipt, recorded against the wrong line.
- The lot is required when the item is lot-tracked (``mobile.lot_required``); nothing else
  about the order's state is checked here: what the clerk records is a fact.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from edge_client.floor_queries import Document, DocumentLine
from edge_client.lookup import NotFoundLocally
from mobile import gs1
from mobile.presenter import BadDate, Form, MissingField, MobileError, Note, parse_quantity
from mobile.tablet import ItemRef, LocationRef
from sync.errors import JcerpError


class NotOnOrder(MobileError):
    code = "mobile.not_on_order"


class ChooseOrder(MobileError):
    code = "mobile.choose_order"


class LotRequired(MobileError):
    code = "mobile.lot_required"


def quantity_text(value: Decimal) -> str:
    """A quantity as people write it: ``20`` not ``20.000``, never ``2E+1``."""
    text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_date(text: str) -> str:
    text = text.strip()
    if text:
        try:
            date.fromisoformat(text)
        except ValueError:
            raise BadDate(f"{text!r} is not YYYY-MM-DD") from None
    return text


def read_label(text: str) -> tuple[str, gs1.GS1Data | None]:
    """A scanned item: (what to look the item up by, the GS1 label if it was one)."""
    if not gs1.looks_like_gs1(text):
        return text, None
    try:
        label = gs1.parse(text)
    except gs1.GS1Error as error:
        raise JcerpError(error.message, code=error.code) from None
    if label.gtin is None:
        raise JcerpError("the label has no GTIN (01)", code="gs1.unknown_ai")
    return label.gtin, label


class DocumentForm(Form):
    """A form against one of the site's open orders (``KIND``: purchase, sales or work)."""

    KIND = "purchase"
    NOT_FOUND_CODE = "edge.not_found"  # the code of "no such order on this device"
    LOCATION_FIELDS: tuple[str, ...] = ("location",)  # fields holding a location of the site

    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.orders: list[Document] = []
        self.order: Document | None = None
        self.line: DocumentLine | None = None
        self.item: ItemRef | None = None
        self.locations: dict[str, LocationRef] = {}
        self.last_seq: int | None = None

    # -- lists ---------------------------------------------------------------------------

    def enter(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Re-read the open orders (and the chosen one, which may no longer be open)."""
        self.orders = self.tablet.documents(self.KIND)
        if self.order is not None:
            found = self.tablet.documents(self.KIND, self.order.number)
            self.order = found[0] if found else None
            if self.line is not None and self.order is not None:
                self.line = next((l for l in self.order.lines if l.id == self.line.id), None)
        self.changed()

    def order_label(self, order: Document) -> str:
        return f"{order.number}  {order.party}"

    def line_label(self, line: DocumentLine) -> str:
        return (f"{line.line_no}. {line.sku} {line.name}\n"
                + self.t("order.line_quantities", ordered=quantity_text(line.ordered), done=quantity_text(line.done),
                         remaining=quantity_text(line.remaining)))

    @property
    def order_choices(self) -> list[str]:
        return [self.order_label(order) for order in self.orders]

    @property
    def line_choices(self) -> list[str]:
        return [self.line_label(line) for line in self.order.lines] if self.order else []

    def choose_order(self, position: int) -> None:
        self._take_order(self.orders[position])
        self.focus = self.next_after("order")
        self.changed()

    def choose_line(self, position: int) -> None:
        if self.order is None:
            return
        line = self.order.lines[position]
        self._take_line(line, self.tablet.find_item(line.item_id))
        self.focus = self.next_after("item")
        self.changed()

    def _take_order(self, order: Document) -> None:
        if self.order is None or order.id != self.order.id:
            self.line, self.item = None, None
            self.values["item"] = ""
        self.order = order
        self.values["order"] = order.number
        self.note = None

    def _take_line(self, line: DocumentLine, item: ItemRef) -> None:
        self.line, self.item = line, item
        self.values["item"] = item.label
        self.line_chosen()

    def line_chosen(self) -> None:
        """A line was chosen: screens add their own hints (remaining quantity, a suggestion)."""

    # -- fields --------------------------------------------------------------------------

    def fill_order(self, text: str) -> None:
        found = [o for o in self.orders if o.number == text] or self.tablet.documents(self.KIND, text)
        if not found:
            raise NotFoundLocally(f"no order {text!r} on this device (sync, or check the number)",
                                  code=self.NOT_FOUND_CODE, text=text)
        self._take_order(found[0])

    def fill_item(self, text: str) -> gs1.GS1Data | None:
        """Resolve the scanned item (or label) and choose its line; the label's lot and expiry fill in."""
        key, label = read_label(text)
        item = self.tablet.find_item(key)
        if self.order is None:
            having = [o for o in self.orders if any(l.remaining > 0 for l in o.lines_of(item.id))]
            if len(having) != 1:
                raise ChooseOrder("choose the order first", item=item.sku, count=len(having))
            self._take_order(having[0])
        lines = self.order.lines_of(item.id)
        if not lines:
            raise NotOnOrder(f"{item.sku} is not on order {self.order.number}", item=item.sku,
                             order=self.order.number)
        line = next((l for l in lines if l.remaining > 0), lines[0])
        self.note = None
        if label is not None:
            self.note = Note("info", "receipt.gs1", {"lot": label.lot or "-",
                                                     "expiry": label.expiry.isoformat() if label.expiry else "-"})
            if label.lot and "lot" in self.values:
                self.values["lot"] = label.lot
            if label.expiry and "expiry" in self.values:
                self.values["expiry"] = label.expiry.isoformat()
            if label.quantity and "quantity" in self.values:
                self.values["quantity"] = str(label.quantity)
        self._take_line(line, item)
        return label

    def fill_location(self, name: str, text: str) -> None:
        location = self.tablet.find_location(text)
        self.locations[name] = location
        self.values[name] = location.label

    def fill(self, name: str, text: str) -> None:
        text = text.strip()
        if name == "order":
            self.fill_order(text)
        elif name == "item":
            self.fill_item(text)
        elif name == "quantity":
            self.values[name] = str(parse_quantity(text))
        elif name == "expiry":
            self.values[name] = parse_date(text)
        elif name in self.LOCATION_FIELDS:
            if text:
                self.fill_location(name, text)
            else:
                self.locations.pop(name, None)
                self.values[name] = ""
        else:
            self.values[name] = text

    def scan(self, name: str, text: str) -> str | None:
        # Enter on an item chosen by tapping its line keeps it and moves on.
        if name == "item" and not text.strip() and self.item is not None:
            self.focus = self.next_after("item")
            return self.focus
        return super().scan(name, text)

    def require_line(self) -> tuple[Document, DocumentLine, ItemRef]:
        self.require(*self.REQUIRED)
        if self.order is None or self.line is None or self.item is None:
            self.focus = "item"
            raise MissingField("choose the order and its line", field=self.t("field.item"))
        if self.item.tracking == "lot" and "lot" in self.values and not self.values["lot"]:
            self.focus = "lot"
            raise LotRequired(f"{self.item.sku} is lot-tracked", item=self.item.sku)
        return self.order, self.line, self.item

    def saved(self, seq: int, keep: tuple[str, ...] = ("order",), *, key: str = "common.saved", kind: str = "ok",
              **values: Any) -> int:
        """After a save: re-read the order (its quantities changed), clear the line's fields, say so."""
        self.last_seq = seq
        self.item, self.line = None, None
        self.clear(keep=keep)
        self.reload()
        self.focus = next((name for name in self.FIELDS if not self.values[name]), None)
        self.say(key, kind, seq=seq, **values)
        return seq
