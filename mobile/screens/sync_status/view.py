"""Sync status view: the state in colour, the counts, a progress bar while downloading, and
"Sync now" (run off the UI thread). Refreshed every two seconds while shown."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty

from mobile.view import ScreenView, in_background, update_status_bar


class SyncStatusView(ScreenView):
    online = BooleanProperty(False)
    busy = BooleanProperty(False)
    _ticker = None

    def refresh(self) -> None:
        super().refresh()
        presenter = self.presenter
        lines = presenter.lines
        self.online = presenter.online
        self.busy = presenter.busy
        self.ids.state.text = lines[0] if lines else ""
        self.ids.lines.text = "\n".join(lines[1:])
        if presenter.progress is not None:
            done, total = presenter.progress
            self.ids.progress.max = max(total, 1)
            self.ids.progress.value = done
        update_status_bar()

    def sync_now(self) -> None:
        if not self.presenter.busy:
            self.busy = True
            in_background(self.presenter.sync_now)

    def _tick(self, _dt: float) -> None:
        if not self.presenter.busy:  # a running sync refreshes the screen itself
            self.presenter.refresh()

    def on_enter(self, *args) -> None:
        self._ticker = Clock.schedule_interval(self._tick, 2)

    def on_leave(self, *args) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
