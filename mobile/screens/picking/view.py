"""Picking view: open sales orders, the chosen order's lines with their pick suggestions, the form."""

from __future__ import annotations

from mobile.view import DocumentFormView, show


class PickingView(DocumentFormView):
    def refresh(self) -> None:
        super().refresh()
        self.ids.hint.text = self.presenter.suggestion_text
        show(self.ids.suggestion_button, self.presenter.suggestion is not None)

    def use_suggestion(self) -> None:
        self.presenter.use_suggestion()
        self.refresh()
        if self.presenter.focus:
            self.focus(self.presenter.focus)
