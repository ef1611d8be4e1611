"""Work-order operation reporting (报工): choose a released or running work order and one of its
operations (tap it, or scan the order number and the operation's sequence from the job card),
then Start, Pause or Finish. Pause and Finish carry the good and scrap quantities made since
the last report (blank is 0). Each press is one ``manufacturing.report_operation`` with the
signed-in operator and the tablet's time (UTC), recorded offline if need be.

The buttons a state allows follow the operation's state as the replica has it (``ACTIONS``):
a pending or paused operation can be started, a running one paused or finished. The server
decides nothing from this: reports are facts, and a report on an order closed meanwhile is
recorded and flagged there. The operator is the signed-in user's name (what piece-rate pay
groups by), as the edge CLI records it.
"""

from __future__ import annotations

from decimal import Decimal

from edge_client.floor_queries import Operation
from erp.manufacturing.operation_report import ReportOperation
from mobile.documents import DocumentForm, quantity_text
from mobile.presenter import MissingField, MobileError, NotSignedIn, parse_quantity
from sync.errors import JcerpError
from sync.ids import new_id

# operation state -> the reports a tablet offers in it (the server accepts any: they are facts)
ACTIONS: dict[str, tuple[str, ...]] = {
    "pending": ("start",),
    "running": ("pause", "finish"),
    "paused": ("start", "finish"),
    "finished": (),
}


ZERO = Decimal(0)


class UnknownOperation(MobileError):
    code = "mobile.unknown_operation"


class OperationReportPresenter(DocumentForm):
    KIND = "work"
    NOT_FOUND_CODE = "edge.unknown_work_order"
    FIELDS = ("order", "operation", "good", "scrap")
    REQUIRED = ("order", "operation")
    LOCATION_FIELDS = ()
    LABELS = {"order": "field.work_order", "operation": "field.operation", "good": "field.good",
              "scrap": "field.scrap"}

    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.operation: Operation | None = None

    def reload(self) -> None:
        super().reload()
        if self.operation is not None and self.order is not None:
            self.operation = next((o for o in self.order.operations if o.sequence == self.operation.sequence), None)
        self.changed()

    def _take_order(self, order) -> None:
        if self.order is None or order.id != self.order.id:
            self.operation = None
            self.values["operation"] = ""
        super()._take_order(order)

    @property
    def line_choices(self) -> list[str]:
        return [self.operation_label(o) for o in self.order.operations] if self.order else []

    def operation_label(self, operation: Operation) -> str:
        return (f"{operation.sequence}  {operation.name} · {self.t(f'operation.state.{operation.status}')}\n"
                + self.t("operation_report.quantities", good=quantity_text(operation.good),
                         scrap=quantity_text(operation.scrap)))

    def choose_line(self, position: int) -> None:
        self._take_operation(self.order.operations[position])
        self.focus = self.next_after("operation")
        self.changed()

    def _take_operation(self, operation: Operation) -> None:
        self.operation = operation
        self.values["operation"] = f"{operation.sequence} {operation.name}"

    def fill(self, name: str, text: str) -> None:
        text = text.strip()
        if name == "operation":
            if self.order is None:
                raise MissingField("choose the work order first", field=self.t("field.work_order"))
            found = next((o for o in self.order.operations if str(o.sequence) == text.split(" ")[0]), None)
            if found is None:
                raise UnknownOperation(f"work order {self.order.number} has no operation {text}",
                                       order=self.order.number, operation=text)
            self._take_operation(found)
        elif name in ("good", "scrap"):
            self.values[name] = str(parse_quantity(text, allow_zero=True)) if text else ""
        else:
            super().fill(name, text)

    @property
    def actions(self) -> tuple[str, ...]:
        return ACTIONS.get(self.operation.status, ()) if self.operation is not None else ()

    @property
    def operator_text(self) -> str:
        user = self.tablet.user()
        return self.t("operation_report.operator", name=user.display_name) if user else ""

    def save(self) -> int | None:
        """Enter on the last field: the report needs a button (start, pause or finish)."""
        self.say("operation_report.press_a_button", kind="info")
        return None

    def report(self, event: str) -> int | None:
        """Record ``event`` (start, pause, finish) on the chosen operation. Returns its number."""
        try:
            self.require(*self.REQUIRED)
            user = self.tablet.user()
            if user is None:
                raise NotSignedIn("sign in first")
            good = parse_quantity(self.values["good"], allow_zero=True) if self.values["good"] else ZERO
            scrap = parse_quantity(self.values["scrap"], allow_zero=True) if self.values["scrap"] else ZERO
            if event == "start":  # a start reports no quantities
                good = scrap = ZERO
            seq = self.tablet.run("manufacturing.report_operation", ReportOperation(
                report_id=new_id(), work_order_id=self.order.id, operation_seq=self.operation.sequence, event=event,
                operator=user.username, occurred_at=self.tablet.now(), good_quantity=good, scrap_quantity=scrap))
        except JcerpError as error:
            self.fail(error)
            return None
        self.last_seq = seq
        self.values["good"] = self.values["scrap"] = ""
        self.reload()
        self.focus = "good" if self.operation is not None and self.operation.status == "running" else "operation"
        self.say(f"operation_report.done.{event}", seq=seq, operation=self.operation.sequence if self.operation else "")
        return seq
