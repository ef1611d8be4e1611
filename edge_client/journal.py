"""The rebase journal: undo the optimistic effects of pending mutations.

Before a pending mutation first writes a row, the row's current values (or its absence) are
kept. ``revert_all`` puts every journaled row back, which restores exactly the server state
of the last pull, because only pending mutations write through the journal and the first
pre-image of each row is the one kept.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, and_, delete, select, type_coerce
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import NullType

from edge_client.local_tables import edge_journal
from edge_client.replica import replace_rows
from sync.registry import Registry
from sync.specs import SyncSpec

_encode = msgspec.msgpack.encode
_decode = msgspec.msgpack.decode


def _raw_select(spec: SyncSpec):
    return select(*[type_coerce(column, NullType()).label(column.name) for column in spec.table.columns])


def _key_clause(spec: SyncSpec, key: tuple[Any, ...]):
    return and_(*(spec.table.c[name] == value for name, value in zip(spec.key_columns, key)))


class Journal:
    """Implements ``sync.context.WriteJournal`` for the device."""

    def before_write(self, conn: Connection, spec: SyncSpec, key: tuple[Any, ...]) -> None:
        encoded_key = _encode(list(key))
        already = conn.execute(
            select(edge_journal.c.id).where(edge_journal.c.table_name == spec.name, edge_journal.c.row_key == encoded_key)
        ).first()
        if already is not None:
            return
        row = conn.execute(_raw_select(spec).where(_key_clause(spec, key))).first()
        conn.execute(
            sqlite_insert(edge_journal)
            .values(table_name=spec.name, row_key=encoded_key, before=None if row is None else _encode(list(row)))
            .on_conflict_do_nothing()
        )


def revert_all(conn: Connection, registry: Registry) -> int:
    """Restore every journaled row to its pre-image and empty the journal. Returns rows reverted."""
    entries = conn.execute(select(edge_journal).order_by(edge_journal.c.id.desc())).all()
    for entry in entries:
        spec = registry.spec(entry.table_name)
        key = tuple(_decode(entry.row_key))
        conn.execute(delete(spec.table).where(_key_clause(spec, key)))
        if entry.before is not None:
            # Raw pre-images: personal values in them are ciphertext already.
            replace_rows(conn, spec.name, list(spec.data_columns), [tuple(_decode(entry.before))], stored=True)
    conn.execute(delete(edge_journal))
    return len(entries)


