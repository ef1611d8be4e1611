"""Shared fixtures: a server per test on SQLite and on PostgreSQL, an HQ world, and edges.

PostgreSQL tests create a database of their own and drop it afterwards. Without a reachable
PostgreSQL they skip with the reason; with CI=true they fail instead, so CI never silently
loses the PostgreSQL half of the suite.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Callable, Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from edge_client.client import EdgeClient
from tests.support import FlakyTransport, World, build_world, enrollment_code, signed_in_app

PG_BASE = os.environ.get("JCERP_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
IN_CI = os.environ.get("CI", "").lower() == "true"


async def _pg_admin(statement: str) -> None:
    import asyncpg

    url = make_url(PG_BASE)
    connection = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username or "postgres",
                                       password=url.password, database="postgres", timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _pg_unavailable_reason() -> str | None:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
        return None
    except Exception as error:  # any failure to connect means: no PostgreSQL here
        return f"PostgreSQL not reachable at {PG_BASE}: {error!r}"


_PG_REASON: list[str | None] = []


def _async_url(database: str) -> str:
    return make_url(PG_BASE).set(drivername="postgresql+asyncpg", database=database).render_as_string(
        hide_password=False)


_PG_TEMPLATE: list[str] = []


def _migrated_pg_template() -> str:
    """A database migrated once per test run, copied for each test that wants a migrated one:
    a copy takes a tenth of the time the migrations do, and the app's own migration step then
    finds nothing to do. Dropped when the run ends."""
    if not _PG_TEMPLATE:
        from sqlalchemy.ext.asyncio import create_async_engine

        from server.db import upgrade_schema

        name = f"jcerp_template_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        atexit.register(lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))

        async def migrate() -> None:
            engine = create_async_engine(_async_url(name))
            async with engine.begin() as conn:
                await conn.run_sync(upgrade_schema)
            await engine.dispose()

        asyncio.run(migrate())
        _PG_TEMPLATE.append(name)
    return _PG_TEMPLATE[0]


def postgres_url(*, migrated: bool = False) -> Iterator[str]:
    """Create a fresh database (``migrated``: already at the latest schema), yield its async
    URL, drop it afterwards."""
    if not _PG_REASON:
        _PG_REASON.append(_pg_unavailable_reason())
    reason = _PG_REASON[0]
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason} (CI requires the PostgreSQL tests to run)")
        pytest.skip(reason)
    name = f"jcerp_test_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{_migrated_pg_template()}"' if migrated else ""
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"{template}'))
    try:
        yield _async_url(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _migrated_sqlite_template(base: Path) -> Path:
    """The SQLite twin of ``_migrated_pg_template``: one migrated file per run, copied per test."""
    template = base / "migrated-template.db"
    if not template.exists():
        from server.db import upgrade_schema
        from sync.sqlite import sqlite_engine

        engine = sqlite_engine(f"sqlite:///{template}")
        with engine.begin() as conn:
            upgrade_schema(conn)
        engine.dispose()
        with closing(sqlite3.connect(template)) as conn:  # all into the main file: copying it is enough
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return template


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server database at the latest schema, on each backend."""
    if request.param == "sqlite":
        shutil.copyfile(_migrated_sqlite_template(tmp_path_factory.getbasetemp()), tmp_path / "server.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
    else:
        yield from postgres_url(migrated=True)


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from postgres_url()


@pytest.fixture
def server(db_url: str) -> Iterator[TestClient]:
    """The app in-process, signed in as its first administrator (every HQ permission)."""
    with signed_in_app(db_url) as client:
        yield client


@pytest.fixture
def world(server: TestClient) -> World:
    return build_world(server)


EdgeFactory = Callable[..., EdgeClient]


@pytest.fixture
def make_edge(server: TestClient, world: World, tmp_path: Path) -> Iterator[EdgeFactory]:
    made: list[EdgeClient] = []

    def factory(name: str, site: str | None = None, *, sync: bool = True, role: str = "branch_manager") -> EdgeClient:
        transport = FlakyTransport(client=server)
        edge = EdgeClient.enroll(tmp_path / name, server_url="http://testserver.local", site_id=site or world.site,
                                 enrollment_code=enrollment_code(server, site or world.site, role),
                                 device_name=name, transport=transport)
        made.append(edge)
        if sync:
            edge.sync_once()
        return edge

    yield factory
    for edge in made:
        edge.replica.close()
