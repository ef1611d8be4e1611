"""Lookup view: a search field, the matching items, and the stock of the chosen one.

Typing searches as the clerk types (each keystroke is one search of the in-memory index); a
scan ends with Enter and searches at once.
"""

from __future__ import annotations

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.metrics import dp

from mobile.view import ScreenView


class LookupView(ScreenView):
    def on_enter(self, *args) -> None:
        field = self.ids.field_query
        Clock.schedule_once(lambda _dt: setattr(field, "focus", True), 0)

    def typed(self, text: str) -> None:
        if text.strip() != self.presenter.query:
            self.presenter.search(text)

    def search(self, text: str) -> None:
        self.presenter.search(text)

    def refresh(self) -> None:
        super().refresh()
        presenter = self.presenter
        grid = self.ids.results
        grid.clear_widgets()
        for position, item in enumerate(presenter.results):
            button = Factory.QuietButton(text=f"{item.sku}  {item.name}", halign="left", height=dp(64))
            button.bind(size=lambda b, _s: setattr(b, "text_size", (b.width - dp(16), None)))
            button.bind(on_release=lambda _b, p=position: presenter.select(p))
            if presenter.selected is not None and presenter.selected.id == item.id:
                button.background_color = (0.13, 0.45, 0.80, 1)
            grid.add_widget(button)
        selected = presenter.selected
        self.ids.detail.text = f"{selected.sku}  {selected.name}  ({selected.unit_code})" if selected else ""
        self.ids.stock.text = "\n".join(presenter.stock_lines)
