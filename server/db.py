"""Database wiring for the server: one code path for SQLite (embedded default) and PostgreSQL.

Invariants:
- Business code runs on synchronous SQLAlchemy connections through ``run_sync``; the async
  engines only carry transactions.
- On SQLite, write transactions start with ``BEGIN IMMEDIATE`` (so two writers queue instead of
  failing at commit) and are also serialized in-process; reads start a deferred ``BEGIN`` so a
  pull reads one snapshot (WAL mode lets it run beside a writer).
- On PostgreSQL, reads that must be one snapshot run at REPEATABLE READ.
- The schema is created and upgraded only by Alembic migrations, on both databases.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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


def _sqlite_engine(url: str, begin: str) -> AsyncEngine:
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN, SAVEPOINT and snapshots behave.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


class Database:
    """The server's engines plus the two ways business code runs on them."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        if ":memory:" in self.url or self.url.rstrip("/").endswith("sqlite+aiosqlite:"):
            raise ValueError("the server needs a database file (sqlite+aiosqlite:///path.db), not :memory:")
        self.dialect = make_url(self.url).get_backend_name()
        if self.is_sqlite:
            self.engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(self.url, "BEGIN")
        else:
            self.engine = create_async_engine(self.url, pool_size=10, max_overflow=20)
            self.read_engine = self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(conn, ...)`` in one write transaction; commit if it returns."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(fn, *args, **kwargs)
        async with self._write_lock:
            async with self.engine.begin() as conn:
                return await conn.run_sync(fn, *args, **kwargs)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(conn, ...)`` in one read-only snapshot."""
        async with self.read_engine.connect() as conn:
            async with conn.begin():
                return await conn.run_sync(fn, *args, **kwargs)

    async def migrate(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade_schema)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()

    def asyncpg_dsn(self) -> str:
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade_schema(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")
