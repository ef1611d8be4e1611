"""QC entry view: the item's plans, the scan fields, one reading field per characteristic of the
chosen plan (built when the plan changes), the verdict the tablet computed."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory

from mobile.view import FormView, fill_choices


class QcEntryView(FormView):
    _shown: tuple = ()  # what the plan list and reading fields were built from
    reading_fields: dict[str, Any] = {}  # characteristic -> its field, rebuilt with the plan

    def refresh(self) -> None:
        super().refresh()
        presenter = self.presenter
        chosen = presenter.plans.index(presenter.plan) if presenter.plan in presenter.plans else None
        shown = (presenter.t.language, tuple(presenter.plan_choices), chosen)
        if shown != self._shown:
            self._shown = shown
            fill_choices(self.ids.plans, presenter.plan_choices, chosen, self.choose_plan)
            self._build_readings()
        for name, widget in self.reading_fields.items():
            if widget.text != presenter.readings.get(name, ""):
                widget.text = presenter.readings.get(name, "")

    def _build_readings(self) -> None:
        grid = self.ids.readings
        grid.clear_widgets()
        self.reading_fields: dict[str, Any] = {}
        presenter = self.presenter
        for name in presenter.readings:
            grid.add_widget(Factory.FieldLabel(text=presenter.check_label(name), width="270dp"))
            field = Factory.ScanField()
            field.bind(on_text_validate=lambda widget, n=name: self.reading_entered(n, widget))
            self.reading_fields[name] = field
            grid.add_widget(field)

    def choose_plan(self, position: int) -> None:
        self.presenter.choose_plan(position)
        self.refresh()
        if self.presenter.focus:
            self.focus(self.presenter.focus)

    def reading_entered(self, name: str, widget: Any) -> None:
        following = self.presenter.read(name, widget.text)
        self.refresh()
        if following is None:
            self.save()
        else:
            self.focus(following)

    def focus(self, name: str) -> None:
        if name.startswith("reading:"):
            widget = self.reading_fields.get(name.partition(":")[2])
            if widget is not None:
                Clock.schedule_once(lambda _dt: setattr(widget, "focus", True), 0)
            return
        super().focus(name)

    def save(self) -> None:
        super().save()
        self.refresh()
