"""Live change notifications: tell online devices within a second that their scope changed.

A push that commits version V touching sites S publishes (V, S). Each live connection (SSE)
holds a one-slot mailbox that keeps only the newest version, so a slow device never builds a
backlog: it pulls once and gets everything.

Across workers:
- PostgreSQL: the push transaction sends ``pg_notify`` (delivered at commit, only if it
  commits); every worker LISTENs and fans out to its own connections.
- SQLite: the writing worker publishes locally after commit; with several workers each also
  polls the clock twice a second and wakes everyone when it moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

CHANNEL = "jcerp_changes"


@dataclass(eq=False)
class Subscriber:
    site_id: str
    device_id: str
    latest: int = 0
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, version: int) -> None:
        if version > self.latest:
            self.latest = version
            self.wakeup.set()


class ChangeFeed:
    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._tasks: list[asyncio.Task] = []
        self._pg_connection = None
        self.last_version = 0
        self.closed = False

    @property
    def connections(self) -> int:
        return len(self._subscribers)

    def subscribe(self, site_id: str, device_id: str) -> Subscriber:
        subscriber = Subscriber(site_id, device_id, latest=self.last_version)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def publish(self, version: int, scopes: set[str] | list[str]) -> None:
        """Wake every subscriber whose site (or device) is among ``scopes`` ("*": everyone)."""
        self.last_version = max(self.last_version, version)
        everyone = "*" in scopes
        for subscriber in self._subscribers:
            if everyone or subscriber.site_id in scopes or subscriber.device_id in scopes:
                subscriber.offer(version)

    @staticmethod
    def payload(version: int, scopes: set[str]) -> str:
        return json.dumps({"version": version, "scopes": sorted(scopes)})

    async def listen_postgres(self, dsn: str) -> None:
        import asyncpg

        self._pg_connection = await asyncpg.connect(dsn)

        def on_notify(_connection, _pid, _channel, payload: str) -> None:
            message = json.loads(payload)
            self.publish(message["version"], message["scopes"])

        await self._pg_connection.add_listener(CHANNEL, on_notify)

    def poll_clock(self, read_version, interval: float = 0.5) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(interval)
                try:
                    version = await read_version()
                except Exception:  # the database may be briefly busy; try again next tick
                    log.debug("clock poll failed", exc_info=True)
                    continue
                if version > self.last_version:
                    self.publish(version, {"*"})

        self._tasks.append(asyncio.create_task(loop()))

    async def close(self) -> None:
        self.closed = True
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._pg_connection is not None:
            await self._pg_connection.close()
        for subscriber in self._subscribers:
            subscriber.wakeup.set()
