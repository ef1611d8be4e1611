"""Sign-in view: two fields and a button; the sign-in runs off the UI thread (it may wait on the network)."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty

from mobile.view import ScreenView, in_background


class SignInView(ScreenView):
    busy = BooleanProperty(False)

    def refresh(self) -> None:
        super().refresh()
        self.ids.device.text = self.presenter.device_text
        self.busy = self.presenter.busy
        box = self.ids.known_users
        box.clear_widgets()
        for username in self.presenter.known_users():
            button = Factory.QuietButton(text=username, size_hint=(None, None), width=dp(220))
            button.bind(on_release=lambda _b, name=username: self._choose(name))
            box.add_widget(button)

    def _choose(self, username: str) -> None:
        self.ids.field_username.text = username
        Clock.schedule_once(lambda _dt: setattr(self.ids.field_password, "focus", True), 0)

    def next_field(self) -> None:
        Clock.schedule_once(lambda _dt: setattr(self.ids.field_password, "focus", True), 0)

    def sign_in(self) -> None:
        if self.busy:
            return
        username, password = self.ids.field_username.text, self.ids.field_password.text
        self.ids.field_password.text = ""
        self.busy = True
        in_background(lambda: self.presenter.sign_in(username, password), lambda _user: self.refresh())

    def on_enter(self, *args) -> None:
        self.refresh()
        field = self.ids.field_username if not self.ids.field_username.text else self.ids.field_password
        Clock.schedule_once(lambda _dt: setattr(field, "focus", True), 0)
