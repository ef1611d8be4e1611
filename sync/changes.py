"""Read what a device may see: pull pages since a cursor, and bootstrap chunks.

Both read raw column values (no Python type conversion) because they only forward them: the
wire carries Decimal and datetimes as strings, which the replica stores as they are.

Invariants:
- A device sees shared tables, rows of its own site, and rows addressed to it; nothing else.
- Of those, only the tables its role may read, and personal fields its role lacks as NULL
  (``sync/visibility.py``): the same rules the scope checksum applies, so replicas verify.
- A pull page is read in one snapshot and holds every change with
  ``cursor < _version <= page cursor``. Pages end on version boundaries, so a commit is never
  split across pages and the device is consistent after each page.
- Pull cost grows with the rows changed: each query is a range scan on ``_version``
  (``(site_id, _version)`` for site-scoped tables), never a scan of the table; a table with
  nothing in the page's range costs one index probe. Bootstrap chunks read a site in key order
  through ``(site_id, key)`` indexes.

Statements are built once per (table, dialect, shape) with bound parameters and reused.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection, Integer, Text, and_, bindparam, cast, func, literal, null, or_, select, true, tuple_, type_coerce,
    union_all,
)
from sqlalchemy.types import NullType

from protocol.bootstrap import BootstrapChunk, BootstrapPosition
from protocol.pull import TablePatch
from sync.personal import PersonalData
from sync.registry import Registry
from sync.schema import sync_devices, sync_mutation_log, sync_tombstones
from sync.server_apply import current_version
from sync.specs import VERSION_COLUMN, ScopeKind, SyncSpec
from sync.types import DecimalType, UtcDateTime
from sync.visibility import masked_fields, visible_tables


@dataclass(frozen=True)
class DeviceScope:
    site_id: str
    device_id: str
    # The grants of the device's enrolled role: which tables and personal fields it receives.
    grants: frozenset[str]


def visible_specs(registry: Registry, scope: DeviceScope) -> list[SyncSpec]:
    """Tables this device replicates, in a stable order (module dependency order)."""
    return visible_tables(registry, scope.grants)


def _scope_clause(spec: SyncSpec, scope: DeviceScope):
    if spec.scope is ScopeKind.SHARED:
        return None
    value = scope.site_id if spec.scope is ScopeKind.SITE else scope.device_id
    return spec.table.c[spec.scope_column] == value


def _wire_columns(spec: SyncSpec, dialect: str, masked: frozenset[str]) -> list[Any]:
    """Columns as the wire carries them: the canonical text of decimals and times, and NULL
    for the ``masked`` personal fields.

    SQLite already stores that text. PostgreSQL renders it in SQL, so no row is converted in
    Python on the way through.
    """
    columns = []
    for column in spec.table.columns:
        column_type = column.type.inner if isinstance(column.type, PersonalData) else column.type
        if column.name in masked:
            columns.append(null().label(column.name))
        elif dialect == "postgresql" and isinstance(column_type, UtcDateTime):
            text = func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
            columns.append(text.label(column.name))
        elif dialect == "postgresql" and isinstance(column_type, DecimalType):
            columns.append(cast(func.trim_scale(column), Text).label(column.name))
        else:
            columns.append(type_coerce(column, NullType()).label(column.name))
    return columns


def _scope_param(spec: SyncSpec, scope: DeviceScope) -> dict[str, Any]:
    return {"site": scope.site_id, "device": scope.device_id}


def _scoped(spec: SyncSpec, *conditions: Any):
    """``conditions`` plus the scope condition, on the parameter ``site`` or ``device``."""
    if spec.scope is not ScopeKind.SHARED:
        name = "site" if spec.scope is ScopeKind.SITE else "device"
        conditions = (*conditions, spec.table.c[spec.scope_column] == bindparam(name))
    return and_(true(), *conditions)


def _in_range(spec: SyncSpec):
    version = spec.table.c[VERSION_COLUMN]
    return version > bindparam("cursor"), version <= bindparam("upper")


@functools.lru_cache(maxsize=64)
def _versions_query(specs: tuple[SyncSpec, ...], limit: int):
    """(table index, version) of the first ``limit`` changes of each table, in one statement,
    so a pull probes every table in one round trip."""
    parts = []
    for index, spec in enumerate(specs):
        version = spec.table.c[VERSION_COLUMN]
        first = (select(version.label("version")).where(_scoped(spec, *_in_range(spec)))
                 .order_by(version).limit(limit).subquery(f"t{index}"))
        parts.append(select(literal(index, Integer).label("table_index"), first.c.version))
    return union_all(*parts)


@functools.lru_cache(maxsize=None)
def _changed_rows_query(spec: SyncSpec, dialect: str, masked: frozenset[str]):
    return select(*_wire_columns(spec, dialect, masked)).where(_scoped(spec, *_in_range(spec)))


def read_pull_page(
    conn: Connection, registry: Registry, scope: DeviceScope, cursor: int, limit: int
) -> tuple[list[TablePatch], int, bool]:
    """Changes since ``cursor`` in the caller's snapshot: (patches, new cursor, has_more).

    ``limit`` caps the rows of the whole page, except that a single commit larger than the
    limit is sent whole. A cursor ahead of the server's clock is answered with the clock, so
    the device sees that the server went backwards (a restored backup) and refuses it.
    """
    snapshot = current_version(conn)
    specs = visible_specs(registry, scope)
    if cursor >= snapshot:
        return [], snapshot, False
    upper, changed = _page_upper(conn, specs, scope, cursor, snapshot, limit)
    patches: list[TablePatch] = []
    for spec in changed:  # tables without a version in (cursor, snapshot] have nothing to send
        params = {"cursor": cursor, "upper": upper, **_scope_param(spec, scope)}
        query = _changed_rows_query(spec, conn.dialect.name, masked_fields(spec, scope.grants))
        rows = conn.execute(query, params).all()
        if rows:
            patches.append(TablePatch(table=spec.name, columns=list(spec.data_columns), rows=[list(r) for r in rows]))
    deletes = _read_tombstones(conn, specs, scope, cursor, upper)
    for patch in patches:
        patch.deleted = deletes.pop(patch.table, [])
    for table_name, keys in deletes.items():
        spec = registry.spec(table_name)
        patches.append(TablePatch(table=table_name, columns=list(spec.data_columns), deleted=keys))
    return patches, upper, upper < snapshot


def _page_upper(conn: Connection, specs: list[SyncSpec], scope: DeviceScope, cursor: int, snapshot: int,
                limit: int) -> tuple[int, list[SyncSpec]]:
    """The highest version whose changes, with all before it, fit ``limit`` rows in total;
    and the tables with changes in (cursor, snapshot], in the given order."""
    params = {"cursor": cursor, "upper": snapshot, "site": scope.site_id, "device": scope.device_id}
    probe = conn.execute(_versions_query(tuple(specs), limit + 1), params).all()
    versions = [row.version for row in probe]
    indexes = {row.table_index for row in probe}
    changed = [spec for index, spec in enumerate(specs) if index in indexes]
    if len(versions) <= limit:
        return snapshot, changed
    versions.sort()
    beyond = versions[limit]  # the first version that does not fit
    # A commit is never split: stop before it, or send it whole if it alone exceeds the limit.
    return (beyond - 1 if beyond - 1 > cursor else beyond), changed


def last_applied_as_of(conn: Connection, device_id: str, version: int | None) -> int:
    """The device's last processed sequence whose effects are within ``version`` (None: all).

    A page that ends early must not confirm mutations whose effects come in a later page, or
    the device would drop them from its outbox while their effects are not yet in its replica.
    """
    if version is None:
        return conn.execute(
            select(sync_devices.c.last_applied_seq).where(sync_devices.c.id == device_id)
        ).scalar_one()
    return conn.execute(
        select(func.coalesce(func.max(sync_mutation_log.c.seq), 0)).where(
            sync_mutation_log.c.device_id == device_id, sync_mutation_log.c.commit_version <= version)
    ).scalar_one()


def _read_tombstones(
    conn: Connection, specs: list[SyncSpec], scope: DeviceScope, cursor: int, upper: int
) -> dict[str, list[list[Any]]]:
    names = [spec.name for spec in specs]
    rows = conn.execute(
        select(sync_tombstones.c.table_name, sync_tombstones.c.row_key).where(
            sync_tombstones.c._version > cursor,
            sync_tombstones.c._version <= upper,
            sync_tombstones.c.table_name.in_(names),
            or_(
                sync_tombstones.c.scope_value.is_(None),
                sync_tombstones.c.scope_value.in_([scope.site_id, scope.device_id]),
            ),
        )
    )
    deletes: dict[str, list[list[Any]]] = {}
    for row in rows:
        deletes.setdefault(row.table_name, []).append(json.loads(row.row_key))
    return deletes


def count_scope_rows(conn: Connection, registry: Registry, scope: DeviceScope) -> int:
    """Rows a bootstrap will send (for progress bars); one COUNT per table."""
    total = 0
    for spec in visible_specs(registry, scope):
        clause = _scope_clause(spec, scope)
        query = select(func.count()).select_from(spec.table)
        if clause is not None:
            query = query.where(clause)
        total += conn.execute(query).scalar_one()
    return total


def read_bootstrap_chunk(
    conn: Connection, registry: Registry, scope: DeviceScope, position: BootstrapPosition, chunk_rows: int
) -> BootstrapChunk | None:
    """The next chunk after ``position`` in (table, primary key) order; None when finished."""
    specs = visible_specs(registry, scope)
    table_index, after_key = position.table_index, position.after_key
    while table_index < len(specs):
        spec = specs[table_index]
        params = _scope_param(spec, scope)
        if after_key is not None:
            params.update({f"after_{i}": value for i, value in enumerate(after_key)})
        query = _chunk_query(spec, conn.dialect.name, after_key is not None, chunk_rows,
                             masked_fields(spec, scope.grants))
        rows = [list(row) for row in conn.execute(query, params)]
        if rows:
            key_positions = [spec.data_columns.index(name) for name in spec.key_columns]
            last_key = [rows[-1][i] for i in key_positions]
            return BootstrapChunk(
                table=spec.name,
                columns=list(spec.data_columns),
                rows=rows,
                position=BootstrapPosition(
                    snapshot_version=position.snapshot_version, table_index=table_index, after_key=last_key
                ),
            )
        table_index, after_key = table_index + 1, None
    return None


@functools.lru_cache(maxsize=256)
def _chunk_query(spec: SyncSpec, dialect: str, after: bool, chunk_rows: int, masked: frozenset[str]):
    """Rows of ``spec`` in the scope, in key order, after the key ``after_0, after_1...``,
    with the ``masked`` personal fields NULL."""
    keys = [spec.table.c[name] for name in spec.key_columns]
    conditions = []
    if after:
        bounds = [bindparam(f"after_{i}", type_=key.type) for i, key in enumerate(keys)]
        conditions.append(keys[0] > bounds[0] if len(keys) == 1 else tuple_(*keys) > tuple_(*bounds))
    return (select(*_wire_columns(spec, dialect, masked)).where(_scoped(spec, *conditions))
            .order_by(*keys).limit(chunk_rows))
