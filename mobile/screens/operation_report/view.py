"""Operation-report view: work orders, the chosen one's operations, quantities, and the Start /
Pause / Finish buttons the operation's state allows."""

from __future__ import annotations

from mobile.view import DocumentFormView, show, update_status_bar


class OperationReportView(DocumentFormView):
    def chosen_line(self) -> int | None:
        presenter = self.presenter
        if presenter.order is None or presenter.operation is None:
            return None
        return next((i for i, o in enumerate(presenter.order.operations)
                     if o.sequence == presenter.operation.sequence), None)

    def refresh(self) -> None:
        super().refresh()
        presenter = self.presenter
        self.ids.hint.text = presenter.operator_text
        for event in ("start", "pause", "finish"):
            show(self.ids[f"{event}_button"], event in presenter.actions)

    def report(self, event: str) -> None:
        self.presenter.report(event)
        self.refresh()
        update_status_bar()
        if self.presenter.focus:
            self.focus(self.presenter.focus)
