"""Headquarters commands: run a registered mutation for HQ through the same handlers devices use.

HQ writes are mutations too (one definition per rule), applied in one transaction with the
live feed told afterwards. A rejection surfaces at once as a problem detail.

Each request gets the commands bound to its signed-in user (``as_user``): the user's
permission for the mutation is checked again here, the user is recorded on what the mutation
writes, and a user bound to one site writes as that site (the engine's scope checks then refuse
other sites' rows, as they do for devices).

Every command is in the audit log with the user and their address: an applied one in its own
transaction, a rejected one (nothing of it written) in a transaction of its own.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy import Connection, text

from erp.access.errors import Forbidden
from server.audit import record_many, source_of
from server.audit.mutations import hq_run
from server.auth.service import Principal
from server.db import Database
from server.live import CHANNEL, ChangeFeed
from sync.context import FieldConflict
from sync.errors import MutationRejected
from sync.registry import Registry
from sync.server_apply import apply_hq


class HqCommands:
    def __init__(self, db: Database, registry: Registry, feed: ChangeFeed, principal: Principal | None = None,
                 source: str | None = None) -> None:
        self.db = db
        self.registry = registry
        self.feed = feed
        self.principal = principal
        self.source = source  # where the request came from, for the audit log

    def as_user(self, principal: Principal, source: str | None = None) -> "HqCommands":
        return HqCommands(self.db, self.registry, self.feed, principal, source)

    async def run(self, name: str, args: Any) -> list[FieldConflict]:
        definition = self.registry.resolve_latest(name)
        user, site_id, permits = None, None, None
        if self.principal is not None:
            if not self.principal.may(name):
                raise Forbidden(f"your role does not allow {name}", permission=name, roles=list(self.principal.roles))
            # ``permits``: nobody writes a personal field they may not read (sync/context.py).
            user, site_id, permits = self.principal.username, self.principal.site_id, self.principal.may
        notify_in_transaction = not self.db.is_sqlite

        def apply(conn: Connection):
            ctx = apply_hq(conn, self.registry, definition, args, user=user, site_id=site_id, permits=permits)
            record_many(conn, [hq_run(definition.name, definition.version, user=user, site_id=site_id,
                                      source=self.source, commit_version=ctx.commit_version)])
            if notify_in_transaction and ctx.touched_scopes:
                conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                             {"channel": CHANNEL, "payload": self.feed.payload(ctx.commit_version, ctx.touched_scopes)})
            return ctx

        try:
            ctx = await self.db.write(apply)
        except MutationRejected as rejection:
            # Nothing of it was written; that it was tried is recorded on its own.
            event = hq_run(definition.name, definition.version, user=user, site_id=site_id, source=self.source,
                           commit_version=None, code=rejection.code)
            await self.db.write(record_many, [event])
            raise
        if not notify_in_transaction and ctx.touched_scopes:
            self.feed.publish(ctx.commit_version, ctx.touched_scopes)
        return ctx.conflicts


def provide_hq(request: Request) -> HqCommands:
    return request.app.state.hq.as_user(request.state.principal, source_of(request))


def provide_db(request: Request) -> Database:
    return request.app.state.db
