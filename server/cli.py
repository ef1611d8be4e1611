"""``jcerp server run`` and ``jcerp server migrate``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from server.db import DEFAULT_URL, Database, normalize_url


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await db.migrate()
    finally:
        await db.dispose()


def run_server(url: str, host: str, port: int, workers: int, log_level: str = "warning",
               graceful_seconds: float = 5.0) -> None:
    import uvicorn

    from server.app import create_app

    url = normalize_url(url)
    asyncio.run(_migrate(url))  # once, before any worker starts, so workers never race on DDL
    if workers == 1:
        uvicorn.run(create_app(url, migrate=False), host=host, port=port, log_level=log_level,
                    timeout_graceful_shutdown=graceful_seconds)
        return
    os.environ["JCERP_DB_URL"] = url
    os.environ["JCERP_WORKERS"] = str(workers)
    uvicorn.run("server.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                timeout_graceful_shutdown=graceful_seconds)


def add_server_commands(commands: argparse._SubParsersAction) -> None:
    server = commands.add_parser("server", help="the central server").add_subparsers(dest="server_command",
                                                                                       required=True)
    run = server.add_parser("run", help="serve the sync protocol and the HQ API")
    run.add_argument("--db", default=os.environ.get("JCERP_DB_URL", DEFAULT_URL),
                     help="database URL: sqlite+aiosqlite:///file.db (default) or postgresql+asyncpg://user@host/db")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--log-level", default="warning")
    # Live streams never end on their own; on shutdown they are cut after this grace period
    # (devices reconnect), while in-flight pushes finish well within it.
    run.add_argument("--graceful-seconds", type=float, default=5.0)
    run.set_defaults(handler=lambda a: run_server(a.db, a.host, a.port, a.workers, a.log_level,
                                                  a.graceful_seconds))

    migrate = server.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument("--db", default=os.environ.get("JCERP_DB_URL", DEFAULT_URL))
    migrate.set_defaults(handler=lambda a: (logging.basicConfig(level=logging.INFO),
                                            asyncio.run(_migrate(normalize_url(a.db))))[-1])
