"""Continuous sync: keep a device caught up while the server is reachable, back off while not.

One loop thread does all syncing (so syncs never overlap); a listener thread holds the live
stream and only wakes the loop. Local mutations wake it too, so pushes go out at once.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from edge_client.client import EdgeClient, SyncReport
from edge_client.revocation import DeviceRevoked
from edge_client.state import Backoff, SyncState
from edge_client.transport import ServerRefused, Unreachable
from sync.errors import JcerpError

log = logging.getLogger(__name__)

# Refusals that retrying cannot fix: the user or an admin must act.
FATAL_CODES = {"sync.client_outdated", "sync.unknown_device", "sync.device_revoked", "sync.unauthenticated",
               "sync.sequence_gap", "sync.scope_mismatch", "sync.device_mismatch", "sync.device_key_missing"}


class SyncRunner:
    def __init__(self, client: EdgeClient, *, poll_seconds: float = 30.0, live: bool = True,
                 on_report: Callable[[SyncReport], None] | None = None, backoff: Backoff | None = None) -> None:
        self.client = client
        self.poll_seconds = poll_seconds
        self.live = live
        self.on_report = on_report
        self.backoff = backoff or Backoff()
        self.stop_event = threading.Event()
        self.last_error: str | None = None

    def stop(self) -> None:
        self.stop_event.set()
        self.client.wake.set()

    def _listen(self) -> None:
        backoff = Backoff(base=1.0, cap=30.0)
        while not self.stop_event.is_set():
            try:
                for version in self.client.transport.live_events():
                    backoff.reset()
                    if version > self.client.status().cursor:
                        self.client.wake.set()
                    if self.stop_event.is_set():
                        return
            except (Unreachable, ServerRefused) as error:
                log.debug("live stream closed: %s", error)
                if isinstance(error, ServerRefused) and error.code == "sync.device_revoked":
                    self.client.wake.set()  # the loop's next request wipes the device: make it now
            except DeviceRevoked:
                return  # the loop has wiped the device and stops
            except Exception:  # the listener only wakes the loop; it must outlive any surprise
                log.exception("live stream failed; reconnecting")
            self.stop_event.wait(backoff.next_delay())

    def run(self) -> None:
        """Sync until ``stop()``; returns early only on a fatal refusal (state ``error``)."""
        if self.live:
            threading.Thread(target=self._listen, name="jcerp-live", daemon=True).start()
        machine = self.client.state
        while not self.stop_event.is_set():
            self.client.wake.clear()
            try:
                report = self.client.sync_once()
                self.backoff.reset()
                self.last_error = None
                if self.on_report is not None:
                    self.on_report(report)
                self.client.wake.wait(self.poll_seconds)
            except Unreachable as error:
                self.last_error = f"server unreachable: {error}"
                self.stop_event.wait(self.backoff.next_delay())
            except DeviceRevoked as revoked:  # the device wiped itself: nothing is left to sync
                self.last_error = f"{revoked.code}: {revoked.message}"
                self.stop_event.set()
                return
            except JcerpError as failure:  # e.g. the server's cursor went backwards
                self.last_error = f"{failure.code}: {failure.message}"
                machine.transition(SyncState.ERROR, self.last_error)
                return
            except ServerRefused as refusal:
                self.last_error = f"{refusal.code}: {refusal.detail}"
                if refusal.code in FATAL_CODES:
                    machine.transition(SyncState.ERROR, self.last_error)
                    return
                machine.transition(SyncState.RETRYING, self.last_error)
                self.stop_event.wait(self.backoff.next_delay())
