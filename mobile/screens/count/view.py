"""Stock count view: the form, and the quantity this tablet holds for the scanned item and location."""

from __future__ import annotations

from mobile.view import FormView


class CountView(FormView):
    def refresh(self) -> None:
        super().refresh()
        self.ids.system.text = self.presenter.system_text
