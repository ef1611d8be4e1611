"""Headquarters commands: run a registered mutation for HQ through the same handlers devices use.

HQ writes are mutations too (one definition per rule), applied in one transaction with the
live feed told afterwards. A rejection surfaces at once as a problem detail.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy import Connection, text

from server.db import Database
from server.live import CHANNEL, ChangeFeed
from sync.context import FieldConflict
from sync.registry import Registry
from sync.server_apply import apply_hq


class HqCommands:
    def __init__(self, db: Database, registry: Registry, feed: ChangeFeed) -> None:
        self.db = db
        self.registry = registry
        self.feed = feed

    async def run(self, name: str, args: Any, *, user: str | None = None) -> list[FieldConflict]:
        definition = self.registry.resolve_latest(name)
        notify_in_transaction = not self.db.is_sqlite

        def apply(conn: Connection):
            ctx = apply_hq(conn, self.registry, definition, args, user=user)
            if notify_in_transaction and ctx.touched_scopes:
                conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                             {"channel": CHANNEL, "payload": self.feed.payload(ctx.commit_version, ctx.touched_scopes)})
            return ctx

        ctx = await self.db.write(apply)
        if not notify_in_transaction and ctx.touched_scopes:
            self.feed.publish(ctx.commit_version, ctx.touched_scopes)
        return ctx.conflicts


def provide_hq(request: Request) -> HqCommands:
    return request.app.state.hq


def provide_db(request: Request) -> Database:
    return request.app.state.db
