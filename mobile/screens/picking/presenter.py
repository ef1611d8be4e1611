"""Picking and delivery for a sales order (拣货发货): choose an open sales order of the site, scan
the item, its lot, the quantity and the location it was picked from → ``sales.deliver`` on the
order's line for that item.

When the inventory module offers first-expiry-first-out suggestions (``erp.inventory.fefo``),
each line of the chosen order shows where to pick what is left to deliver (location, lot,
expiry, quantity); Enter on the empty lot or location field takes the first suggestion's, and
"use the suggestion" fills both. The clerk can always scan something else: what was picked is
what gets recorded. Without the module the screen shows no suggestion and works the same.

Delivering more than is left on the line is recorded (the goods left) and warned about.
"""

from __future__ import annotations

from decimal import Decimal

from edge_client.floor_queries import DocumentLine, Pick
from erp.sales.delivery import DeliverSalesOrder
from mobile.documents import DocumentForm, quantity_text
from mobile.presenter import parse_quantity
from sync.errors import JcerpError
from sync.ids import new_id


class PickingPresenter(DocumentForm):
    KIND = "sales"
    NOT_FOUND_CODE = "edge.unknown_so"
    FIELDS = ("order", "item", "lot", "quantity", "location")
    REQUIRED = ("order", "item", "quantity", "location")
    LOCATION_FIELDS = ("location",)
    LABELS = {"order": "field.so", "item": "field.item", "lot": "field.lot", "quantity": "field.quantity",
              "location": "field.pick_from"}

    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.picks: dict[str, list[Pick]] = {}  # line id -> suggested picks for what is left

    @property
    def STOPS(self) -> tuple[str, ...]:
        if self.item is not None and self.item.tracking == "lot":
            return self.FIELDS
        return self.REQUIRED

    def reload(self) -> None:
        super().reload()
        self.picks = {}
        if self.order is not None:
            for line in self.order.lines:
                if line.remaining > 0:
                    self.picks[line.id] = self.tablet.pick_suggestions(line.item_id, line.remaining)
        self.changed()

    def _take_order(self, order) -> None:
        changed = self.order is None or self.order.id != order.id
        super()._take_order(order)
        if changed:
            self.reload()

    def line_label(self, line: DocumentLine) -> str:
        text = (f"{line.line_no}. {line.sku} {line.name}\n"
                + self.t("picking.line", ordered=quantity_text(line.ordered), done=quantity_text(line.done),
                         remaining=quantity_text(line.remaining)))
        picks = self.picks.get(line.id)
        if not picks:
            return text
        first = picks[0]
        return text + "\n" + self.t("picking.line_suggestion", location=first.location_code, lot=first.lot_no or "-",
                                     quantity=quantity_text(first.quantity))

    def pick_text(self, pick: Pick) -> str:
        return self.t("picking.suggestion", location=pick.location_code, lot=pick.lot_no or "-",
                      expiry=str(pick.expires_on) if pick.expires_on else "-", quantity=quantity_text(pick.quantity))

    @property
    def suggestion(self) -> Pick | None:
        picks = self.picks.get(self.line.id) if self.line is not None else None
        return picks[0] if picks else None

    @property
    def suggestion_text(self) -> str:
        if self.line is None:
            return ""
        return self.pick_text(self.suggestion) if self.suggestion else self.t("picking.no_suggestion")

    def fill(self, name: str, text: str) -> None:
        pick = self.suggestion
        if not text.strip() and pick is not None and name in ("lot", "location"):
            text = (pick.lot_no or "") if name == "lot" else pick.location_id  # Enter takes the suggestion
        super().fill(name, text)
        if name in ("item", "quantity") and self.line is not None and self.values["quantity"]:
            if Decimal(self.values["quantity"]) > self.line.remaining:
                self.say("picking.over", kind="warn", remaining=quantity_text(self.line.remaining))

    def use_suggestion(self) -> None:
        """The "use the suggestion" button: the suggested lot and location."""
        pick = self.suggestion
        if pick is None:
            return
        self.values["lot"] = pick.lot_no or ""
        self.fill_location("location", pick.location_id)
        self.focus = next((f for f in self.REQUIRED if not self.values[f]), None)
        self.changed()

    def save(self) -> int | None:
        try:
            _, line, _ = self.require_line()
            seq = self.tablet.run("sales.deliver", DeliverSalesOrder(
                delivery_id=new_id(), move_id=new_id(), order_line_id=line.id,
                location_id=self.locations["location"].id, quantity=parse_quantity(self.values["quantity"]),
                occurred_at=self.tablet.now(), lot_no=self.values["lot"] or None))
        except JcerpError as error:
            self.fail(error)
            return None
        return self.saved(seq)
