"""Receipt-against-order view: open orders and the chosen order's lines beside the scan form."""

from __future__ import annotations

from mobile.view import DocumentFormView


class PoReceiptView(DocumentFormView):
    def refresh(self) -> None:
        super().refresh()
        self.ids.hint.text = self.presenter.line_hint
