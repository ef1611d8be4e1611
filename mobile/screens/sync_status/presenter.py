"""Sync status: online or offline, work waiting to upload, last sync, the inbox count, and the
progress of a first download. "Sync now" runs one sync (the view runs it off the UI thread).

The state is the one the device's sync client last recorded (edge_client/state.py), so it is
right whether the background sync or this screen's button ran the last sync.
"""

from __future__ import annotations

from edge_client.client import EdgeStatus
from edge_client.transport import ServerRefused, Unreachable
from mobile.presenter import Presenter
from sync.errors import JcerpError


class SyncStatusPresenter(Presenter):
    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.status: EdgeStatus | None = None
        self.progress: tuple[int, int] | None = None

    def enter(self) -> None:
        self.refresh()

    def refresh(self) -> EdgeStatus:
        self.status = self.tablet.client.status()
        self.changed()
        return self.status

    @property
    def online(self) -> bool:
        return self.status is not None and self.status.state in ("live", "syncing", "bootstrapping")

    @property
    def lines(self) -> list[str]:
        status = self.status
        if status is None:
            return []
        lines = [self.t(f"sync.state.{status.state}"),
                 self.t("sync.pending", count=status.pending),
                 self.t("sync.last", when=status.last_sync_at[:19].replace("T", " ") + " UTC")
                 if status.last_sync_at else self.t("sync.never"),
                 self.t("sync.inbox", count=status.open_rejections + status.open_conflicts
                        + status.pending_with_local_errors)]
        if self.progress is not None:
            lines.append(self.t("sync.bootstrap", done=self.progress[0], total=self.progress[1]))
        return lines

    def on_progress(self, done: int, total: int) -> None:
        self.progress = (done, total)
        self.changed()

    def sync_now(self) -> bool:
        """One sync, blocking. True when it reached the server and caught up."""
        self.busy = True
        self.changed()
        try:
            report = self.tablet.sync_now(progress=self.on_progress)
        except Unreachable:
            self.busy = False
            self.note = None
            self.say("sync.failed", kind="warn")
            self.refresh()
            return False
        except (ServerRefused, JcerpError) as error:
            self.busy = False
            self.fail(error)
            self.refresh()
            return False
        self.busy = False
        self.say("sync.done", pushed=report.pushed, rejected=report.rejected, pending=report.pending)
        self.refresh()
        return True
