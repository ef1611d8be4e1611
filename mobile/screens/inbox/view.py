"""Inbox view: the list of problems; the chosen one's reason, its correctable values as fields,
and the actions that fit it (resubmit or discard a rejection, acknowledge a conflict)."""

from __future__ import annotations

from kivy.factory import Factory
from kivy.metrics import dp

from mobile.view import ScreenView


class InboxView(ScreenView):
    def refresh(self) -> None:
        super().refresh()
        presenter = self.presenter
        if not presenter.entries and not presenter.note:
            self.ids.note.text = presenter.t("inbox.empty")
        grid = self.ids.entries
        grid.clear_widgets()
        for position, entry in enumerate(presenter.entries):
            button = Factory.QuietButton(text=presenter.summary(entry), halign="left", height=dp(96), font_size="20sp")
            button.bind(size=lambda b, _s: setattr(b, "text_size", (b.width - dp(16), None)))
            button.bind(on_release=lambda _b, p=position: presenter.select(p))
            if presenter.selected is not None and presenter.selected.id == entry.id:
                button.background_color = (0.13, 0.45, 0.80, 1)
            grid.add_widget(button)
        selected = presenter.selected
        self.ids.reason.text = ("\n".join([presenter.reason(selected), *presenter.conflict_lines])
                                if selected else "")
        edits = self.ids.edits
        edits.clear_widgets()
        for name, value in presenter.edits.items():
            edits.add_widget(Factory.FieldLabel(text=name))
            field = Factory.ScanField(text=value)
            field.field_name = name
            field.bind(text=lambda w, text, n=name: presenter.edit(n, text))
            edits.add_widget(field)
        kind = selected.kind if selected else None
        for button_id, visible in (("resubmit_button", kind == "rejection"), ("discard_button", kind == "rejection"),
                                   ("acknowledge_button", kind == "conflict")):
            button = self.ids[button_id]
            button.opacity, button.disabled = (1, False) if visible else (0, True)

    def resubmit(self) -> None:
        self.presenter.resubmit()
