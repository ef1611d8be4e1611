"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL: after
``upgrade head`` Alembic's comparison with the metadata finds nothing to change (tables, columns,
types, indexes, constraints). The migrations from 0007 on also go down and up again cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import sync.registry
from server.db import alembic_config, upgrade_schema
from sync.schema import metadata
from sync.sqlite import sqlite_engine

sync.registry.discover()  # every module's tables join the metadata


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True, "target_metadata": metadata})
    return compare_metadata(context, metadata)


def _check(conn: Connection) -> None:
    upgrade_schema(conn)
    assert _differences(conn) == []
    # The last migration is reversible: down one step undoes it, up again gives the same schema.
    command.downgrade(alembic_config(conn), "-1")
    assert _differences(conn) != []
    upgrade_schema(conn)
    assert _differences(conn) == []


def test_migrations_match_the_metadata_on_sqlite(tmp_path: Path):
    engine = sqlite_engine(f"sqlite:///{tmp_path / 'server.db'}")
    with engine.begin() as conn:
        _check(conn)
    engine.dispose()


@pytest.mark.postgres
def test_migrations_match_the_metadata_on_postgresql(pg_url: str):
    async def run() -> None:
        engine = create_async_engine(pg_url)
        async with engine.begin() as conn:
            await conn.run_sync(_check)
        await engine.dispose()

    asyncio.run(run())
