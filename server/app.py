"""The Litestar application: sync transport, HQ API, OpenAPI at /schema, problem details.

``create_app(url)`` builds an app for one database. The lifespan migrates the schema (unless
told the CLI already did), starts the live feed and disposes the engines on shutdown.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import AsyncIterator

from litestar import Litestar, get
from litestar.openapi import OpenAPIConfig

from server.api import discover_controllers
from server.auth.guard import hq_guard
from server.auth.service import AuthService
from server.auth.tablet_sign_in import TabletSignIn
from server.db import DEFAULT_URL, Database
from server.hq import HqCommands
from server.live import ChangeFeed
from server.problems import EXCEPTION_HANDLERS
from server.rate_limits import RateLimits
from server.sync_api import SyncController
from server.sync_service import SyncService
from sync.registry import discover
from sync.server_apply import current_version

MAX_BODY_BYTES = 16 * 1024 * 1024


def create_app(url: str = DEFAULT_URL, *, migrate: bool = True, poll_clock: bool = False,
               bootstrap_admin: tuple[str, str] | None = None, rate_limits: RateLimits | None = None) -> Litestar:
    """``migrate``: bring the schema up to date, write the built-in roles and, with
    ``bootstrap_admin`` (user name, password), create the first HQ administrator of a database
    that has no user yet. The CLI does all of that once before starting workers (``prepare``),
    so several workers never race on it, and passes ``migrate=False``. ``rate_limits``: the
    limits on sign-in and enrollment, by default from the environment (server/rate_limits.py)."""
    db = Database(url)
    registry = discover()
    feed = ChangeFeed()
    auth = AuthService(db, registry)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if migrate:
            await prepare(db, auth, bootstrap_admin)
        feed.last_version = await db.read(current_version)
        if not db.is_sqlite:
            await feed.listen_postgres(db.asyncpg_dsn())
        elif poll_clock:
            feed.poll_clock(lambda: db.read(current_version))
        try:
            yield
        finally:
            await feed.close()
            await db.dispose()

    @get("/health", tags=["ops"])
    async def health() -> dict:
        return {"status": "ok", "live_connections": feed.connections}

    app = Litestar(
        route_handlers=[SyncController, health, *discover_controllers()],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(title="Jiangcheng ERP", version="1", path="/schema"),
        request_max_body_size=MAX_BODY_BYTES,
        guards=[hq_guard],
        middleware=(rate_limits or RateLimits.from_env()).middleware(),
    )
    app.state.db = db
    app.state.registry = registry
    app.state.feed = feed
    app.state.sync_service = SyncService(db, registry, feed)
    app.state.hq = HqCommands(db, registry, feed)
    app.state.auth = auth
    app.state.tablet_sign_in = TabletSignIn(auth)
    return app


def app_from_env() -> Litestar:
    """Factory for multi-worker uvicorn: the CLI migrated already and passes the URL by env."""
    workers = int(os.environ.get("JCERP_WORKERS", "1"))
    return create_app(os.environ["JCERP_DB_URL"], migrate=False, poll_clock=workers > 1)


async def prepare(db: Database, auth: AuthService, bootstrap_admin: tuple[str, str] | None) -> None:
    """Schema, built-in roles, first administrator: everything a server needs before it serves."""
    await db.migrate()
    await auth.ensure_builtin_roles()
    if bootstrap_admin is not None:
        await auth.bootstrap_admin(*bootstrap_admin)


def bootstrap_admin_from_env() -> tuple[str, str] | None:
    """``JCERP_ADMIN_PASSWORD`` (and optionally ``JCERP_ADMIN_USER``, default ``admin``) creates
    the first administrator of an empty database at start; ignored once any user exists."""
    password = os.environ.get("JCERP_ADMIN_PASSWORD")
    return (os.environ.get("JCERP_ADMIN_USER", "admin"), password) if password else None
