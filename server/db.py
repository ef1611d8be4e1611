"""Database wiring for the server: one code path for SQLite (embedded default) and PostgreSQL.

Business code always runs on a synchronous SQLAlchemy ``Connection``, one transaction per call
of ``Database.write`` or ``Database.read``:

- On PostgreSQL the async engine (asyncpg) carries the transaction and the code runs inside it
  through ``AsyncConnection.run_sync``.
- On SQLite each whole transaction runs on a plain synchronous pysqlite engine in a worker
  thread: writes on one dedicated thread, reads on the default executor. aiosqlite would hop
  between the event loop and its own thread on every statement; a push batch issues thousands,
  and the same apply measured 2.7 times slower through it than on a synchronous connection.
  Here a transaction costs one hop, whatever it executes. ``sqlite+aiosqlite://`` URLs (the
  documented form) are still accepted; the file and its settings are the same.

Invariants:
- On SQLite, write transactions start with ``BEGIN IMMEDIATE`` (so two writers queue instead of
  failing at commit) and are also serialized in-process (an asyncio lock, and a single writer
  thread, which keeps them serialized even when an awaiting request is cancelled); reads start
  a deferred ``BEGIN`` so a pull reads one snapshot (WAL mode lets it run beside a writer).
- On PostgreSQL, write transactions are serialized in-process too (the same asyncio lock), before
  they take a pooled connection: each one takes the change clock's row lock and so commits one at
  a time anyway (``sync/server_apply.py``), and a write queued inside the database would hold a
  connection that reads need. With 500 devices pushing at once the pool of 30 had 26–29
  connections waiting on that row lock and pulls waiting for a connection; queueing here cut
  the p99 of a push-and-pull round from 4.5 s to 2.5 s at the same throughput
  (``bench/concurrency.py`` points, A/B in one session; docs/benchmarks.md).
- On PostgreSQL, reads that must be one snapshot run at REPEATABLE READ.
- The schema is created and upgraded only by Alembic migrations, on both databases.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from sync.sqlite import sqlite_engine

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_URL = "sqlite+aiosqlite:///jcerp.db"


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite:///`` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def _sqlite_engine(url: str, begin: str) -> Engine:
    """A synchronous pysqlite engine on the same file the ``sqlite+aiosqlite`` URL names."""
    return sqlite_engine(url, begin, any_thread=True)


def _in_transaction(engine: Engine, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    with engine.begin() as conn:
        return fn(conn, *args, **kwargs)


class Database:
    """The server's engines plus the two ways business code runs on them."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        if ":memory:" in self.url or self.url.rstrip("/").endswith("sqlite+aiosqlite:"):
            raise ValueError("the server needs a database file (sqlite+aiosqlite:///path.db), not :memory:")
        self.dialect = make_url(self.url).get_backend_name()
        if self.is_sqlite:
            self.sqlite_engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE")
            self.sqlite_read_engine = _sqlite_engine(self.url, "BEGIN")
            self._writer: ThreadPoolExecutor | None = None
        else:
            self.engine = create_async_engine(self.url, pool_size=10, max_overflow=20)
            self.read_engine = self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._write_lock = asyncio.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _write_thread(self) -> ThreadPoolExecutor:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jcerp-sqlite-writer")
        return self._writer

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(conn, ...)`` in one write transaction; commit if it returns."""
        if not self.is_sqlite:
            async with self._write_lock, self.engine.begin() as conn:
                return await conn.run_sync(fn, *args, **kwargs)
        async with self._write_lock:
            call = functools.partial(_in_transaction, self.sqlite_engine, fn, args, kwargs)
            return await asyncio.get_running_loop().run_in_executor(self._write_thread(), call)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(conn, ...)`` in one read-only snapshot."""
        if self.is_sqlite:
            return await asyncio.to_thread(_in_transaction, self.sqlite_read_engine, fn, args, kwargs)
        async with self.read_engine.connect() as conn:
            async with conn.begin():
                return await conn.run_sync(fn, *args, **kwargs)

    async def migrate(self) -> None:
        if self.is_sqlite:
            await self.write(upgrade_schema)
            return
        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade_schema)

    async def dispose(self) -> None:
        if not self.is_sqlite:
            await self.engine.dispose()
            return
        writer, self._writer = self._writer, None
        if writer is not None:
            await asyncio.to_thread(writer.shutdown)  # let a transaction in flight finish first
        self.sqlite_engine.dispose()
        self.sqlite_read_engine.dispose()

    def asyncpg_dsn(self) -> str:
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade_schema(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")
