"""The Kivy side every screen shares: a screen bound to its presenter, scan-driven form views
(with the site's open orders and their lines beside the form, ``DocumentFormView``), lists of
big buttons, work off the UI thread, and the status bar.

A view reads its presenter's state into widgets (``refresh``) and forwards taps and scans; it
holds no state of its own beyond widgets. Presenter listeners may fire on a worker thread (a
sign-in or sync running in the background), so ``refresh`` is always scheduled on Kivy's main
thread.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from mobile.presenter import Form, Presenter


def on_main_thread(function: Callable[[], Any]) -> None:
    if threading.current_thread() is threading.main_thread():
        function()
    else:
        Clock.schedule_once(lambda _dt: function(), 0)


def update_status_bar() -> None:
    """Ask the app to re-read the status bar now (after a save or a sync), not at its next tick."""
    from kivy.app import App

    app = App.get_running_app()
    if app is not None and hasattr(app, "update_status"):
        app.update_status()


def in_background(work: Callable[[], Any], then: Callable[[Any], None] | None = None) -> threading.Thread:
    """Run ``work`` on a worker thread (network: sign-in, sync), then ``then(result)`` on the UI thread."""

    def run() -> None:
        result = work()
        if then is not None:
            Clock.schedule_once(lambda _dt: then(result), 0)

    thread = threading.Thread(target=run, name="jcerp-ui-work", daemon=True)
    thread.start()
    return thread


class ScreenView(Screen):
    """A screen showing one presenter."""

    presenter = ObjectProperty(None)

    def __init__(self, presenter: Presenter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.presenter = presenter
        presenter.bind(lambda: on_main_thread(self.refresh))

    def refresh(self) -> None:
        note = self.ids.get("note")
        if note is not None and self.presenter is not None:
            note.text = self.presenter.note_text
            note.kind = self.presenter.note.kind if self.presenter.note else ""


class FormView(ScreenView):
    """A column of scan fields (ids ``field_<name>``) with Save and Clear."""

    def refresh(self) -> None:
        super().refresh()
        presenter: Form = self.presenter
        for name in presenter.FIELDS:
            widget = self.ids.get(f"field_{name}")
            if widget is not None and widget.text != presenter.values[name]:
                widget.text = presenter.values[name]

    def scanned(self, name: str, widget: Any) -> None:
        """Enter (a scanner's last key) in field ``name``: fill it, move on, save when complete."""
        following = self.presenter.scan(name, widget.text)
        self.refresh()
        if following is None:
            self.save()
        else:
            self.focus(following)

    def save(self) -> None:
        self.presenter.save()
        self.refresh()
        update_status_bar()
        if self.presenter.focus:
            self.focus(self.presenter.focus)

    def clear(self) -> None:
        self.presenter.clear()
        self.presenter.note = None
        self.refresh()
        if self.presenter.focus:
            self.focus(self.presenter.focus)

    def focus(self, name: str) -> None:
        widget = self.ids.get(f"field_{name}")
        if widget is not None:
            # After this frame: a TextInput handling Enter would otherwise take the focus back.
            Clock.schedule_once(lambda _dt: setattr(widget, "focus", True), 0)

    def on_enter(self, *args: Any) -> None:
        if self.presenter.focus:
            self.focus(self.presenter.focus)


def show(widget: Any, visible: bool) -> None:
    """Show a button, or hide it and make it untappable (it keeps its place in the layout)."""
    widget.opacity, widget.disabled = (1, False) if visible else (0, True)


def fill_choices(grid: Any, labels: list[str], chosen: int | None, choose: Callable[[int], None],
                 height: float = 84) -> None:
    """Fill ``grid`` with one big button per label; a tap calls ``choose(position)``."""
    from kivy.factory import Factory
    from kivy.metrics import dp

    grid.clear_widgets()
    for position, text in enumerate(labels):
        button = Factory.QuietButton(text=text, halign="left", valign="middle", height=dp(height), font_size="20sp")
        # Wrapped at the button's width; a long line (a suggestion, English) makes the button taller.
        button.bind(width=lambda b, w: setattr(b, "text_size", (w - dp(16), None)))
        button.bind(texture_size=lambda b, size, least=dp(height): setattr(b, "height", max(least, size[1] + dp(16))))
        button.bind(on_release=lambda _b, p=position: choose(p))
        button.position = position
        if position == chosen:
            button.background_color = (0.13, 0.45, 0.80, 1)
        grid.add_widget(button)


class DocumentFormView(FormView):
    """A scan form beside the site's open orders (``ids.orders``) and the chosen one's lines (``ids.lines``)."""

    _shown: tuple = ()  # what the lists were last built from: rebuilding them costs a frame

    def refresh(self) -> None:
        super().refresh()
        presenter = self.presenter
        orders, lines = presenter.order_choices, presenter.line_choices
        chosen_order = next((i for i, o in enumerate(presenter.orders)
                             if presenter.order is not None and o.id == presenter.order.id), None)
        chosen_line = self.chosen_line()
        shown = (tuple(orders), tuple(lines), chosen_order, chosen_line)
        if shown != self._shown:
            self._shown = shown
            fill_choices(self.ids.orders, orders, chosen_order, self.choose_order, height=72)
            fill_choices(self.ids.lines, lines, chosen_line, self.choose_line)
        self.ids.empty.text = presenter.t("order.none") if not orders else ""

    def chosen_line(self) -> int | None:
        presenter = self.presenter
        if presenter.order is None or presenter.line is None:
            return None
        return next((i for i, l in enumerate(presenter.order.lines) if l.id == presenter.line.id), None)

    def choose_order(self, position: int) -> None:
        self.presenter.choose_order(position)
        self.refresh()
        if self.presenter.focus:
            self.focus(self.presenter.focus)

    def choose_line(self, position: int) -> None:
        self.presenter.choose_line(position)
        self.refresh()
        if self.presenter.focus:
            self.focus(self.presenter.focus)


class StatusBar(BoxLayout):
    """Who is signed in, online or offline with the count waiting to sync, and the language."""

    who = StringProperty("")
    state_text = StringProperty("")
    online = BooleanProperty(False)
