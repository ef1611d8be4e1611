"""Put-away view: the form, the suggested bin and a button to take it."""

from __future__ import annotations

from mobile.view import FormView, show


class PutawayView(FormView):
    def refresh(self) -> None:
        super().refresh()
        self.ids.hint.text = self.presenter.suggestion_text
        show(self.ids.suggestion_button, self.presenter.suggestion is not None)

    def use_suggestion(self) -> None:
        self.presenter.use_suggestion()
        self.refresh()
        if self.presenter.focus:
            self.focus(self.presenter.focus)
