"""The tablet app: one window, a status bar, and a ScreenManager with one screen per task.

``TabletApp`` wires presenters (plain Python, ``mobile/screens/*/presenter.py``) to their views
(``view.py`` + ``screen.kv``), registers the CJK font as Kivy's default, and runs the device's
sync in the background (``edge_client.runner.SyncRunner``) while the clerk works offline on
the local replica.

Invariants:
- Screens switch instantly (no transition animation): the clerk's next scan must land on the
  screen they see.
- Start-up builds sign-in and home only; the other views are built one per frame once home
  shows (``go`` builds a view at once if it is asked for first). No screen reads its lists
  (orders, plans) before it is shown.
- ``go(screen)`` lets the target's presenter re-read its state first; a presenter that sends
  the clerk elsewhere (home without a signed-in user → sign-in) wins.
- Work the network may delay (sign-in, "sync now") never runs on the UI thread.
- Importing this module imports Kivy: set the window up first (``mobile.headless``,
  ``mobile.cli``) if it must be offscreen or sized.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from edge_client.runner import SyncRunner
from mobile.fonts import register_default_font
from mobile.i18n import DEFAULT_LANGUAGE, Translator
from mobile.presenter import Presenter
from mobile.screens.count.presenter import CountPresenter
from mobile.screens.count.view import CountView
from mobile.screens.home.presenter import HomePresenter
from mobile.screens.home.view import HomeView
from mobile.screens.inbox.presenter import InboxPresenter
from mobile.screens.inbox.view import InboxView
from mobile.screens.lookup.presenter import LookupPresenter
from mobile.screens.lookup.view import LookupView
from mobile.screens.operation_report.presenter import OperationReportPresenter
from mobile.screens.operation_report.view import OperationReportView
from mobile.screens.picking.presenter import PickingPresenter
from mobile.screens.picking.view import PickingView
from mobile.screens.po_receipt.presenter import PoReceiptPresenter
from mobile.screens.po_receipt.view import PoReceiptView
from mobile.screens.putaway.presenter import PutawayPresenter
from mobile.screens.putaway.view import PutawayView
from mobile.screens.qc_entry.presenter import QcEntryPresenter
from mobile.screens.qc_entry.view import QcEntryView
from mobile.screens.receipt.presenter import ReceiptPresenter
from mobile.screens.receipt.view import ReceiptView
from mobile.screens.sign_in.presenter import SignInPresenter
from mobile.screens.sign_in.view import SignInView
from mobile.screens.sync_status.presenter import SyncStatusPresenter
from mobile.screens.sync_status.view import SyncStatusView
from mobile.screens.transfer.presenter import TransferPresenter
from mobile.screens.transfer.view import TransferView
from mobile.screens.wo_issue.presenter import WoIssuePresenter
from mobile.screens.wo_issue.view import WoIssueView
from mobile.tablet import Tablet
from mobile.view import ScreenView, StatusBar, on_main_thread

log = logging.getLogger(__name__)
HERE = Path(__file__).parent

# name -> (presenter, view); the folder of each is mobile/screens/<name>/
SCREENS: dict[str, tuple[type[Presenter], type[ScreenView]]] = {
    "sign_in": (SignInPresenter, SignInView),
    "home": (HomePresenter, HomeView),
    "receipt": (ReceiptPresenter, ReceiptView),
    "po_receipt": (PoReceiptPresenter, PoReceiptView),
    "putaway": (PutawayPresenter, PutawayView),
    "transfer": (TransferPresenter, TransferView),
    "picking": (PickingPresenter, PickingView),
    "count": (CountPresenter, CountView),
    "wo_issue": (WoIssuePresenter, WoIssueView),
    "operation_report": (OperationReportPresenter, OperationReportView),
    "qc_entry": (QcEntryPresenter, QcEntryView),
    "lookup": (LookupPresenter, LookupView),
    "sync_status": (SyncStatusPresenter, SyncStatusView),
    "inbox": (InboxPresenter, InboxView),
}
# Built with the window; the others one per frame after home shows (a document screen with its
# lists costs about 30 ms to build, which start-up does not wait for).
EAGER_VIEWS = ("sign_in", "home")
_KV_LOADED: list[bool] = []


def load_kv() -> None:
    """Load the shared style and every screen's .kv once per process."""
    if _KV_LOADED:
        return
    Builder.load_file(str(HERE / "style.kv"))
    for name in SCREENS:
        Builder.load_file(str(HERE / "screens" / name / "screen.kv"))
    _KV_LOADED.append(True)


class TabletApp(App):
    lang = StringProperty(DEFAULT_LANGUAGE)

    def __init__(self, tablet: Tablet, *, language: str = DEFAULT_LANGUAGE, background_sync: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tablet = tablet
        self.translator = Translator(language)
        self.translator.listener = self._language_changed
        self.lang = language
        self.background_sync = background_sync
        self.presenters: dict[str, Presenter] = {}
        self.views: dict[str, ScreenView] = {}
        self.manager: ScreenManager | None = None
        self.status_bar: StatusBar | None = None
        self.runner: SyncRunner | None = None
        self._target: str | None = None
        self._view_builder: Any = None  # the next deferred view build, cancelled on stop
        self.title = self.translator("app.title")

    # -- used from .kv -------------------------------------------------------------------

    def tr(self, key: str, _language: str | None = None, **values: Any) -> str:
        """Translate ``key``; kv rules pass ``app.lang`` so they re-evaluate when it changes."""
        return self.translator(key, **values)

    def toggle_language(self) -> None:
        self.translator.toggle()

    def _language_changed(self, language: str) -> None:
        self.lang = language
        self.title = self.translator("app.title")
        current = self.manager.current if self.manager else None
        if current:
            self.presenters[current].enter()
            self.views[current].refresh()
        self.update_status()

    # -- building ------------------------------------------------------------------------

    def build(self) -> BoxLayout:
        register_default_font()
        load_kv()
        self.manager = ScreenManager(transition=NoTransition())
        for name, (presenter_type, _view_type) in SCREENS.items():
            presenter = presenter_type(self.tablet, self.translator)
            # A presenter may navigate from a worker thread (after a sign-in): Kivy wants the UI thread.
            presenter.navigate = lambda screen: on_main_thread(lambda: self.go(screen))
            self.presenters[name] = presenter
        for name in EAGER_VIEWS:
            self.view(name)
        self.tablet.on_index_ready = lambda: Clock.schedule_once(
            lambda _dt: self.presenters["lookup"].index_ready(), 0)
        root = BoxLayout(orientation="vertical")
        self.status_bar = StatusBar()
        root.add_widget(self.status_bar)
        root.add_widget(self.manager)
        self.go("home")
        self._view_builder = Clock.schedule_once(self._build_next_view, 0)
        return root

    def view(self, name: str) -> ScreenView:
        """The screen's view, built now if it was not yet."""
        view = self.views.get(name)
        if view is None:
            view = self.views[name] = SCREENS[name][1](self.presenters[name], name=name)
            self.manager.add_widget(view)
        return view

    def _build_next_view(self, _dt: float) -> None:
        """Build one more view per frame once home shows, so every screen is ready before a tap."""
        missing = next((name for name in SCREENS if name not in self.views), None)
        if missing is not None:
            self.view(missing)
            self._view_builder = Clock.schedule_once(self._build_next_view, 0)

    def go(self, screen: str) -> None:
        """Show ``screen`` after its presenter re-read its state (it may redirect)."""
        self._target = screen
        self.presenters[screen].enter()
        if self._target != screen:
            return
        self.view(screen).refresh()
        self.manager.current = screen
        self.update_status()

    def update_status(self, *_args: Any) -> None:
        if self.status_bar is None:
            return
        status = self.tablet.client.status()
        user = self.tablet.user()
        t = self.translator
        self.status_bar.who = f"{t('app.title')} · {user.display_name}" if user else t("app.title")
        self.status_bar.online = status.state in ("live", "syncing", "bootstrapping")
        self.status_bar.state_text = f"● {t(f'sync.state.{status.state}')} · {t('sync.pending', count=status.pending)}"

    # -- running -------------------------------------------------------------------------

    def on_start(self) -> None:
        self.tablet.start_index()
        Clock.schedule_interval(self.update_status, 2)
        if self.background_sync and self.tablet.client.transport is not None:
            self.runner = SyncRunner(self.tablet.client, poll_seconds=15, on_report=self._synced)
            threading.Thread(target=self.runner.run, name="jcerp-sync", daemon=True).start()

    def _synced(self, _report: Any) -> None:
        self.tablet.start_index()  # a no-op unless the items changed

    def on_stop(self) -> None:
        if self._view_builder is not None:  # a stopped app builds nothing more
            self._view_builder.cancel()
        if self.runner is not None:
            self.runner.stop()

