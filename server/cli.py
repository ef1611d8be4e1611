"""``jcerp server run`` and ``jcerp server migrate``.

TLS: ``--tls-cert`` and ``--tls-key`` come together or not at all, and are checked before the
server starts, so a wrong path or a key of another certificate is a one-line error rather than
a traceback from a worker (certificates for a plant LAN: ``jcerp tls``, docs/security.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import ssl
import stat
import sys
from pathlib import Path

from server.db import DEFAULT_URL, Database, normalize_url
from sync.errors import JcerpError


async def _migrate(url: str, bootstrap_admin: tuple[str, str] | None = None) -> None:
    """Migrate, write the built-in roles, and create the first administrator if asked to."""
    from server.app import prepare
    from server.auth.service import AuthService
    from sync.registry import discover

    db = Database(url)
    try:
        await prepare(db, AuthService(db, discover()), bootstrap_admin)
    finally:
        await db.dispose()


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard limit; returns the soft limit now in force.

    Every device online holds a live stream, and every stream is a file descriptor. The usual
    default soft limit of 1,024 made the server fail to accept connections ("Too many open
    files") at about a thousand devices, below the 2,000 one process must hold; the hard limit
    is what the administrator allows, and raising the soft limit up to it needs no privilege.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == resource.RLIM_INFINITY or soft >= hard:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are not affected by this
# string); uvicorn's own default also admits CBC suites with SHA-1.
TLS_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def check_tls_files(cert: Path, key: Path) -> str | None:
    """Why ``cert`` and ``key`` cannot serve TLS, or None when they can."""
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except FileNotFoundError as error:
        return f"{error.filename or cert} not found"
    except OSError as error:  # ssl.SSLError is an OSError too: unreadable, not PEM, key of another cert
        return f"cannot use {cert} with {key}: {error.strerror or error}"
    return None


def run_server(url: str, host: str, port: int, workers: int, log_level: str = "warning",
               graceful_seconds: float = 5.0, tls_cert: Path | None = None, tls_key: Path | None = None) -> None:
    import uvicorn

    from server.app import bootstrap_admin_from_env, create_app

    raise_open_files_limit()  # before uvicorn forks workers, which inherit it
    url = normalize_url(url)
    # Once, before any worker starts, so workers never race on DDL, roles or the first administrator.
    asyncio.run(_migrate(url, bootstrap_admin_from_env()))
    tls = {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key), "ssl_ciphers": TLS_CIPHERS} if tls_cert else {}
    if workers == 1:
        uvicorn.run(create_app(url, migrate=False), host=host, port=port, log_level=log_level,
                    timeout_graceful_shutdown=graceful_seconds, **tls)
        return
    os.environ["JCERP_DB_URL"] = url
    os.environ["JCERP_WORKERS"] = str(workers)
    uvicorn.run("server.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                timeout_graceful_shutdown=graceful_seconds, **tls)


def cmd_run(args: argparse.Namespace) -> int:
    if (args.tls_cert is None) != (args.tls_key is None):
        print("error: --tls-cert and --tls-key go together: give both to serve TLS, or neither", file=sys.stderr)
        return 2
    if args.tls_cert is not None:
        problem = check_tls_files(args.tls_cert, args.tls_key)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        if args.tls_key.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            print(f"warning: {args.tls_key} is readable by others than its owner; chmod 600 it", file=sys.stderr)
    try:
        run_server(args.db, args.host, args.port, args.workers, args.log_level, args.graceful_seconds,
                   args.tls_cert, args.tls_key)
    except JcerpError as error:  # e.g. JCERP_ADMIN_PASSWORD too short: say so, no traceback
        print(f"error: {error.message} ({error.code})", file=sys.stderr)
        return 2
    return 0


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
    run.add_argument("--tls-cert", type=Path, metavar="FILE",
                     help="serve HTTPS with this PEM certificate (e.g. from `jcerp tls server-cert`); needs --tls-key")
    run.add_argument("--tls-key", type=Path, metavar="FILE", help="the PEM private key of --tls-cert")
    run.set_defaults(handler=cmd_run)

    migrate = server.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument("--db", default=os.environ.get("JCERP_DB_URL", DEFAULT_URL))
    migrate.set_defaults(handler=lambda a: (logging.basicConfig(level=logging.INFO),
                                            asyncio.run(_migrate(normalize_url(a.db), _bootstrap_admin())))[-1])


def _bootstrap_admin() -> tuple[str, str] | None:
    from server.app import bootstrap_admin_from_env

    return bootstrap_admin_from_env()
