"""Issue components to a work order (生产领料): choose a released or running work order of the
site, see its component lines with required and issued quantities, scan the item, its lot, the
quantity, and optionally the location it is taken from → ``manufacturing.issue_material``.

An empty location means the order's line-side location (what the server uses when none is
given). Components marked backflush (倒冲) are consumed at completion; they are listed so the
operator knows not to issue them, and issuing one anyway is recorded like any other issue.
Issuing more than required is recorded too (a fact), with a warning on screen.
"""

from __future__ import annotations

from decimal import Decimal

from edge_client.floor_queries import DocumentLine
from erp.manufacturing.material_issue import MaterialMove
from mobile.documents import DocumentForm, quantity_text
from mobile.presenter import parse_quantity
from sync.errors import JcerpError
from sync.ids import new_id


class WoIssuePresenter(DocumentForm):
    KIND = "work"
    NOT_FOUND_CODE = "edge.unknown_work_order"
    FIELDS = ("order", "item", "lot", "quantity", "location")
    REQUIRED = ("order", "item", "quantity")
    LOCATION_FIELDS = ("location",)
    LABELS = {"order": "field.work_order", "item": "field.item", "lot": "field.lot", "quantity": "field.quantity",
              "location": "field.issue_from"}

    @property
    def STOPS(self) -> tuple[str, ...]:
        if self.item is not None and self.item.tracking == "lot":
            return ("order", "item", "lot", "quantity")
        return self.REQUIRED

    def line_label(self, line: DocumentLine) -> str:
        marker = f" · {self.t('wo_issue.backflush')}" if line.backflush else ""
        return (f"{line.line_no}. {line.sku} {line.name}{marker}\n"
                + self.t("wo_issue.line", required=quantity_text(line.ordered), issued=quantity_text(line.done),
                         remaining=quantity_text(line.remaining)))

    def fill(self, name: str, text: str) -> None:
        super().fill(name, text)
        if name in ("item", "quantity") and self.line is not None and self.values["quantity"]:
            if Decimal(self.values["quantity"]) > self.line.remaining:
                self.say("wo_issue.over", kind="warn", remaining=quantity_text(self.line.remaining))
            elif self.line.backflush:
                self.say("wo_issue.is_backflush", kind="warn")

    def save(self) -> int | None:
        try:
            order, _, item = self.require_line()
            location = self.locations.get("location") if self.values["location"] else None
            seq = self.tablet.run("manufacturing.issue_material", MaterialMove(
                move_id=new_id(), work_order_id=order.id, item_id=item.id,
                quantity=parse_quantity(self.values["quantity"]), occurred_at=self.tablet.now(),
                location_id=location.id if location else None, lot_no=self.values["lot"] or None))
        except JcerpError as error:
            self.fail(error)
            return None
        return self.saved(seq, keep=("order", "location"))
