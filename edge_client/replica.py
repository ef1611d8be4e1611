"""The device's local SQLite replica: schema, settings, and transaction discipline.

Invariants:
- The replica holds exactly the replicated tables of the server (same definitions, from the
  module manifests) plus the device-only tables of ``local_tables``.
- Write transactions start with ``BEGIN IMMEDIATE`` so a mutation and a rebase never interleave,
  and none is ever held across network I/O: the client reads what to send, commits, talks to the
  server, then opens a new transaction to apply the answer.
- Settings live in ``edge_meta`` and change in the same transaction as the data they describe
  (the cursor moves with the patch it belongs to).
- Personal fields (``SyncSpec.personal_fields``) are stored encrypted under the device's data
  key (``DATA_KEY_FILE``, created with the replica, mode 0600; ``sync/personal.py``): the engine
  carries the cipher, so typed reads and writes encrypt and decrypt on their own, and
  ``replace_rows``, which bypasses type processing, encrypts wire values itself.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from edge_client.local_tables import edge_meta, local_metadata
from sync.personal import (
    FieldCipher, attach_cipher, cipher_of, encrypt_row_values, load_or_create_key, personal_positions,
)
from sync.registry import Registry
from sync.schema import SCHEMA_VERSION, metadata
from sync.sqlite import sqlite_engine

REPLICA_FILE = "replica.db"
# The 256-bit key of personal fields at rest; deleting it (a revoked device's wipe deletes
# ``*.key``) leaves their ciphertext unreadable even where the replica file survives.
DATA_KEY_FILE = "data.key"


def replicated_tables(registry: Registry) -> list[Any]:
    return [spec.table for spec in registry.ordered_specs()]


def open_engine(path: Path) -> Engine:
    return sqlite_engine(f"sqlite:///{path}")


class Replica:
    """One device's database file and its settings."""

    def __init__(self, home: Path, registry: Registry) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.registry = registry
        self.engine = open_engine(self.home / REPLICA_FILE)
        attach_cipher(self.engine, FieldCipher(load_or_create_key(self.home / DATA_KEY_FILE)))
        with self.engine.begin() as conn:
            metadata.create_all(conn, tables=replicated_tables(registry))
            local_metadata.create_all(conn)
            if get_meta(conn, "schema_version") is None:
                set_meta(conn, "schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        self.engine.dispose()


def replace_rows(conn: Connection, table_name: str, columns: list[str], rows: list[list[Any]] | list[tuple], *,
                 stored: bool = False) -> None:
    """Write wire rows as they are (raw values): insert, or replace the row with the same key.

    Personal values are encrypted on the way in, unless ``stored``: the rows were read raw from
    this replica (the rebase journal's pre-images) and hold ciphertext already.
    """
    if not rows:
        return
    cipher = None if stored else cipher_of(conn.dialect)
    if cipher is not None:
        positions = _personal_positions(table_name, tuple(columns))
        if positions:
            rows = encrypt_row_values(cipher, positions, rows)
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    # Straight to sqlite3's executemany: bootstrap speed is bounded by this loop.
    conn.connection.driver_connection.executemany(
        f'INSERT OR REPLACE INTO "{table_name}" ({names}) VALUES ({marks})', rows
    )


@functools.lru_cache(maxsize=256)
def _personal_positions(table_name: str, columns: tuple[str, ...]) -> list[tuple[int, str]]:
    table = metadata.tables.get(table_name)
    return [] if table is None else personal_positions(table, columns)


def get_meta(conn: Connection, key: str, default: str | None = None) -> str | None:
    value = conn.execute(select(edge_meta.c.value).where(edge_meta.c.key == key)).scalar()
    return default if value is None else value


def set_meta(conn: Connection, key: str, value: str | int | None) -> None:
    conn.execute(delete(edge_meta).where(edge_meta.c.key == key))
    if value is not None:
        conn.execute(insert(edge_meta).values(key=key, value=str(value)))
