"""The one place mutation handlers touch the database, on the device and on the server.

A handler receives a ``MutationContext`` and writes only through it. That lets the engine keep
its invariants without each module repeating them:

- every write stamps the row's ``_version`` with the server commit version (0 on a device,
  meaning "optimistic, not yet confirmed");
- every write is checked against the actor's scope: a device writes only rows of its own site,
  and creates shared master rows only where the table's spec allows;
- a write to a personal field (``SyncSpec.personal_fields``) needs the field's permission when
  the actor carries permissions (``Actor.permits``: the server sets it for devices and HQ
  users); a field conflict on a personal field is recorded without its values;
- ledger tables are insert-only, and idempotent by id;
- master tables change through ``merge_master`` (field-level, with base versions);
- on a device, the pre-image of every touched row goes to the rebase journal first, so the
  optimistic effects of pending mutations can be undone before a server patch is applied;
- deletes leave a tombstone on the server so devices learn of them on pull.

Statements are built once per (table, columns) and reused with bound parameters, so a call
costs an execution, not a statement construction and cache-key computation. On the server a
push batch may share a ``RowCache`` of master rows (items, locations, warehouses...) between
its mutations: every write to a master table through this context drops that table's entries,
and the apply drops them all when a mutation rolls back, so a cached row is always the row the
transaction would read.
"""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Mapping, NoReturn, Protocol, TypeVar

import msgspec
from sqlalchemy import Connection, Integer, String, Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from sync.errors import MutationRejected, OutOfScope, PersonalFieldForbidden
from sync.personal import PersonalData
from sync.registry import Registry
from sync.schema import sync_tombstones
from sync.specs import (
    FIELD_VERSIONS_COLUMN,
    VERSION_COLUMN,
    ConflictPolicy,
    ScopeKind,
    SyncKind,
    SyncSpec,
)

T = TypeVar("T")


class Side(enum.StrEnum):
    SERVER = "server"
    EDGE = "edge"


class Edit(msgspec.Struct, Generic[T], frozen=True):
    """A change to one master field: the new value and the field version it was based on."""

    value: T
    base_version: int


@dataclass(frozen=True)
class Actor:
    """Who is acting: a device of one site, or HQ (``site_id`` None: every site)."""

    device_id: str | None
    site_id: str | None
    user: str | None = None
    # Whether the actor holds a permission, for the personal-field rule; None: not checked
    # (a device's own optimistic run: the server decides with the device's and user's roles).
    permits: Callable[[str], bool] | None = None

    @property
    def is_hq(self) -> bool:
        return self.site_id is None


@dataclass(frozen=True)
class MutationRef:
    device_id: str | None
    seq: int
    name: str
    version: int
    hlc: str


@dataclass(frozen=True)
class FieldConflict:
    """The same field changed on both sides; ``kept`` says whose value stands."""

    table: str
    row_key: tuple[Any, ...]
    field: str
    base_version: int
    device_value: Any
    server_value: Any
    kept: str


class WriteJournal(Protocol):
    """Records pre-images of rows before a device writes them (see edge_client.rebase)."""

    def before_write(self, conn: Connection, spec: SyncSpec, key: tuple[Any, ...]) -> None: ...


# Bound-parameter names for key columns; prefixed because UPDATE reserves the bare column names
# for its SET clause.
_KEY_PREFIX = "key__"


# Marks statements that read or insert single rows by key. They never need the updates a
# RowCache holds back: a held row is always served from the cache, never read, and it exists,
# so inserting its key fails with or without them (see RowCache).
BY_KEY = "jcerp_by_key"


@functools.lru_cache(maxsize=None)
def _select_by(table: Table, names: tuple[str, ...]):
    query = select(table).where(*(table.c[name] == bindparam(_KEY_PREFIX + name) for name in names))
    return query.execution_options(**{BY_KEY: True})


@functools.lru_cache(maxsize=None)
def _insert_into(table: Table):
    return insert(table).execution_options(**{BY_KEY: True})


@functools.lru_cache(maxsize=None)
def _insert_unless_key_exists(dialect: str, table: Table):
    """INSERT that does nothing if the primary key exists (other constraints still raise)."""
    keys = list(table.primary_key.columns)
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys).execution_options(**{BY_KEY: True})
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys).execution_options(**{BY_KEY: True})
    return None


@functools.lru_cache(maxsize=None)
def _update_by(table: Table, names: tuple[str, ...]):
    return update(table).where(*(table.c[name] == bindparam(_KEY_PREFIX + name) for name in names))


def _key_params(key: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {_KEY_PREFIX + name: key[name] for name in names}


class RowCache:
    """Rows read or written during one server transaction, by (table, primary key).

    Master rows are dropped table-wide on any write to their table. Derived rows (on_hand...)
    are kept up to date by the writes themselves (``update``), as the database would return
    them, and their updates are written behind: held here, merged per row, and executed
    together by ``flush``, which the apply runs before any statement on the connection other
    than the context's own reads and inserts by key (``BY_KEY``), so no other query, no
    savepoint release and no commit can see the table without them. Only valid
    while the transaction holds the clock row lock (no other writer can change the rows) and
    while every write to a cached table goes through a ``MutationContext`` sharing this
    cache; tables written otherwise are named in ``uncached``. ``clear`` forgets everything,
    pending updates included: call it before rolling back.
    """

    def __init__(self, uncached: frozenset[str] = frozenset()) -> None:
        self.uncached = uncached
        self.key_columns: dict[str, tuple[str, ...] | None] = {}  # per table; None: never cached
        self._rows: dict[str, dict[tuple[Any, ...], Mapping[str, Any] | None]] = {}
        self._pending: dict[tuple[str, tuple[Any, ...]], tuple[SyncSpec, dict[str, Any]]] = {}
        self._flushing = False

    def table(self, name: str) -> dict[tuple[Any, ...], Mapping[str, Any] | None]:
        return self._rows.setdefault(name, {})

    def forget(self, name: str) -> None:
        self._rows.pop(name, None)

    def clear(self) -> None:
        self._rows.clear()
        self._pending.clear()

    def write_behind(self, spec: SyncSpec, key: tuple[Any, ...], values: Mapping[str, Any]) -> None:
        held = self._pending.get((spec.name, key))
        if held is None:
            self._pending[(spec.name, key)] = (spec, dict(values))
        else:
            held[1].update(values)

    def flush(self, conn: Connection) -> None:
        """Execute the held updates: one executemany per (table, set of columns)."""
        if not self._pending or self._flushing:
            return
        self._flushing = True
        try:
            groups: dict[tuple[SyncSpec, tuple[str, ...]], list[dict[str, Any]]] = {}
            for (_name, key), (spec, values) in self._pending.items():
                names = _key_columns(spec)
                params = {**values, **{_KEY_PREFIX + name: value for name, value in zip(names, key)}}
                groups.setdefault((spec, tuple(sorted(values))), []).append(params)
            self._pending.clear()
            for (spec, _columns), rows in groups.items():
                conn.execute(_update_by(spec.table, _key_columns(spec)), rows)
        finally:
            self._flushing = False


@functools.lru_cache(maxsize=None)
def _text_limits(table: Table) -> dict[str, int]:
    """Declared lengths of the table's text columns: longer text is refused, not truncated
    (PostgreSQL refuses it; SQLite would store it and diverge)."""
    limits = {}
    for column in table.columns:
        column_type = column.type.inner if isinstance(column.type, PersonalData) else column.type
        if isinstance(column_type, String) and column_type.length:
            limits[column.name] = column_type.length
    return limits


@functools.lru_cache(maxsize=None)
def _key_columns(spec: SyncSpec) -> tuple[str, ...]:
    return spec.key_columns


def _as_read(table: Table, values: Mapping[str, Any], dialect: Any) -> dict[str, Any] | None:
    """``values`` as reading them back would return them; None if a type makes that unsure."""
    out = {}
    for name, value in values.items():
        column_type = table.c[name].type
        if isinstance(column_type, TypeDecorator):
            value = column_type.process_result_value(column_type.process_bind_param(value, dialect), dialect)
        elif not isinstance(column_type, (String, Integer)) or isinstance(value, bool):
            return None
        out[name] = value
    return out


@dataclass
class MutationContext:
    conn: Connection
    registry: Registry
    side: Side
    actor: Actor
    ref: MutationRef
    commit_version: int = 0
    journal: WriteJournal | None = None
    touched_scopes: set[str] = field(default_factory=set)
    conflicts: list[FieldConflict] = field(default_factory=list)
    cache: RowCache | None = None

    # -- reads ---------------------------------------------------------------------------

    def get(self, table: Table, **key: Any) -> Mapping[str, Any] | None:
        names = tuple(key)
        cached = self._cached_rows(table, names)
        if cached is not None:
            values = tuple(key.values())
            if values in cached:
                return cached[values]
        row = self.conn.execute(_select_by(table, names), _key_params(key, names)).mappings().first()
        if cached is not None:
            cached[tuple(key.values())] = row
        return row

    def _cached_rows(self, table: Table, names: tuple[str, ...]) -> dict | None:
        """The cache of ``table`` if its rows may be cached and ``names`` is its whole key."""
        if self.cache is None:
            return None
        key_columns = self.cache.key_columns.get(table.name, False)
        if key_columns is False:
            spec = self.registry.specs.get(table.name)
            cacheable = spec is not None and spec.kind is not SyncKind.LEDGER and spec.name not in self.cache.uncached
            key_columns = self.cache.key_columns[table.name] = _key_columns(spec) if cacheable else None
        if key_columns is None or names != key_columns:
            return None
        return self.cache.table(table.name)

    # -- failure -------------------------------------------------------------------------

    def reject(self, code: str, message: str, /, **details: Any) -> NoReturn:
        """Refuse the mutation with a stable code and a message the user can act on."""
        raise MutationRejected(message, code=code, **details)

    # -- writes --------------------------------------------------------------------------

    def insert_ledger(self, table: Table, row: dict[str, Any]) -> bool:
        """Append a ledger row; returns False (and writes nothing) if its id already exists."""
        spec = self._spec(table, SyncKind.LEDGER)
        key = self._key_of(spec, row)
        statement = _insert_unless_key_exists(self.conn.dialect.name, spec.table)
        if self.journal is not None or statement is None:
            # On a device the journal must see the row's pre-image before any write.
            if self.get(table, **dict(zip(_key_columns(spec), key))) is not None:
                return False
            self._insert(spec, row, key)
            return True
        self._check_scope(spec, row)
        self._check_text(spec, row)
        self._check_personal(spec, row, inserting=True)
        row = {**row, VERSION_COLUMN: self.commit_version}
        if self.conn.execute(statement, row).rowcount == 0:
            return False  # the id is already recorded: this append happened before
        self._touch(spec, row)
        return True

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Create a master or derived row."""
        spec = self.registry.spec(table.name)
        if spec.kind is SyncKind.LEDGER:
            raise TypeError("use insert_ledger for ledger tables")
        if not spec.device_may_insert and not self.actor.is_hq:
            raise OutOfScope(f"{table.name} rows are created at headquarters", table=str(table.name))
        row = dict(row)
        key = self._key_of(spec, row)
        if spec.kind is SyncKind.MASTER:
            # Ids come from devices and HQ clients: a taken one is their mistake, not a crash.
            if self.get(table, **dict(zip(spec.key_columns, key))) is not None:
                self.reject("sync.id_taken", f"a {table.name} row with this id already exists",
                            table=str(table.name), key=list(key))
            fields = {name: self.commit_version for name in spec.merge_fields() if name in row}
            row[FIELD_VERSIONS_COLUMN] = json.dumps(fields, sort_keys=True)
        self._insert(spec, row, key)

    def update(
        self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any], *,
        current: Mapping[str, Any] | None = None,
    ) -> None:
        """Overwrite columns of a derived row (the engine's own bookkeeping rows included).

        ``current`` is the row as the caller just read it in this transaction, which saves
        reading it again; it must be the row at ``key``.
        """
        spec = self.registry.spec(table.name)
        if spec.kind is SyncKind.LEDGER:
            raise TypeError(f"{table.name} is a ledger: append a reversal instead")
        if current is None:
            current = self._require(spec, key)
        self._check_scope(spec, current)
        self._write_update(spec, key, dict(values), current)

    def merge_master(
        self, table: Table, key: Mapping[str, Any], edits: Mapping[str, Edit[Any] | None]
    ) -> list[FieldConflict]:
        """Apply a field-level edit. Fields changed only here win; fields changed on both sides
        resolve by the table's policy and produce a ``FieldConflict``."""
        spec = self._spec(table, SyncKind.MASTER)
        current = self._require(spec, key)
        self._check_scope(spec, current)
        versions: dict[str, int] = json.loads(current[FIELD_VERSIONS_COLUMN] or "{}")
        allowed = set(spec.merge_fields())
        changes: dict[str, Any] = {}
        found: list[FieldConflict] = []
        for name, edit in edits.items():
            if edit is None:
                continue
            if name not in allowed:
                self.reject("sync.field_not_editable", f"{table.name}.{name} cannot be edited", field=name,
                            table=str(table.name))
            server_version = versions.get(name, 0)
            if edit.base_version >= server_version or self.side is Side.EDGE:
                changes[name] = edit.value
                continue
            if current[name] == edit.value:
                continue  # both sides made the same change: nothing to resolve
            kept = "device" if spec.conflict_policy is ConflictPolicy.DEVICE_WINS else "server"
            # A conflict record travels to HQ lists and the device's inbox, which have no field
            # rules of their own: a personal field's record names the field, not its values.
            personal = name in spec.personal_fields
            found.append(
                FieldConflict(
                    table=table.name,
                    row_key=tuple(key[column] for column in spec.key_columns),
                    field=name,
                    base_version=edit.base_version,
                    device_value=None if personal else edit.value,
                    server_value=None if personal else current[name],
                    kept=kept,
                )
            )
            if kept == "device":
                changes[name] = edit.value
        if changes:
            if self.side is Side.SERVER:
                versions.update({name: self.commit_version for name in changes})
                changes[FIELD_VERSIONS_COLUMN] = json.dumps(versions, sort_keys=True)
            self._write_update(spec, key, changes, current)
        self.conflicts.extend(found)
        return found

    def delete(self, table: Table, key: Mapping[str, Any]) -> None:
        """Delete a master row; devices learn of it through a tombstone."""
        spec = self._spec(table, SyncKind.MASTER)
        current = self._require(spec, key)
        self._check_scope(spec, current)
        key_tuple = tuple(key[column] for column in spec.key_columns)
        if self.journal is not None:
            self.journal.before_write(self.conn, spec, key_tuple)
        self._forget(spec, key_tuple)
        self.conn.execute(delete(table).where(self._key_clause(spec, key)))
        if self.side is Side.SERVER:
            scope_value = current[spec.scope_column] if spec.scope_column else None
            row_key = json.dumps(list(key_tuple))
            self.conn.execute(
                delete(sync_tombstones).where(
                    sync_tombstones.c.table_name == table.name, sync_tombstones.c.row_key == row_key
                )
            )
            self.conn.execute(
                insert(sync_tombstones).values(
                    table_name=table.name,
                    row_key=row_key,
                    scope_value=scope_value,
                    _version=self.commit_version,
                )
            )
        self._touch(spec, current)

    # -- internals -----------------------------------------------------------------------

    def _spec(self, table: Table, kind: SyncKind) -> SyncSpec:
        spec = self.registry.spec(table.name)
        if spec.kind is not kind:
            raise TypeError(f"{table.name} is {spec.kind}, not {kind}")
        return spec

    @staticmethod
    def _key_of(spec: SyncSpec, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[column] for column in _key_columns(spec))

    @staticmethod
    def _key_clause(spec: SyncSpec, key: Mapping[str, Any]):
        return and_(*(spec.table.c[column] == key[column] for column in spec.key_columns))

    def _require(self, spec: SyncSpec, key: Mapping[str, Any]) -> Mapping[str, Any]:
        row = self.get(spec.table, **{column: key[column] for column in _key_columns(spec)})
        if row is None:
            self.reject("sync.row_missing", f"{spec.name} {dict(key)} does not exist", table=spec.name)
        return row

    def _check_scope(self, spec: SyncSpec, row: Mapping[str, Any]) -> None:
        if self.actor.is_hq or spec.scope is ScopeKind.SHARED:
            return
        expected = self.actor.site_id if spec.scope is ScopeKind.SITE else self.actor.device_id
        if row.get(spec.scope_column) != expected:
            raise OutOfScope(
                f"{spec.name} row belongs to {spec.scope} {row.get(spec.scope_column)!r}, "
                f"outside this device's {spec.scope} {expected!r}",
                table=spec.name,
                scope=str(spec.scope),
                row_scope=row.get(spec.scope_column),
                device_scope=expected,
            )

    def _check_text(self, spec: SyncSpec, values: Mapping[str, Any]) -> None:
        for name, limit in _text_limits(spec.table).items():
            value = values.get(name)
            if isinstance(value, str) and len(value) > limit:
                self.reject("sync.text_too_long", f"{spec.name}.{name} holds at most {limit} characters",
                            table=spec.name, field=name, limit=limit)

    def _check_personal(self, spec: SyncSpec, values: Mapping[str, Any], *, inserting: bool) -> None:
        """Refuse writing a personal field the actor may not see. A new row may leave it empty;
        an update may not even clear it (that would erase what the actor cannot see)."""
        permits = self.actor.permits
        if permits is None or not spec.personal_fields:
            return
        for name, permission in spec.personal_fields.items():
            if name in values and not (inserting and values[name] is None) and not permits(permission):
                raise PersonalFieldForbidden(
                    f"{spec.name}.{name} is personal data that needs {permission}, which this "
                    f"{'user' if self.actor.is_hq else 'device'} does not hold",
                    table=spec.name, field=name, permission=permission)

    def _insert(self, spec: SyncSpec, row: dict[str, Any], key: tuple[Any, ...]) -> None:
        self._check_scope(spec, row)
        self._check_text(spec, row)
        self._check_personal(spec, row, inserting=True)
        if self.journal is not None:
            self.journal.before_write(self.conn, spec, key)
        row[VERSION_COLUMN] = self.commit_version
        self._forget(spec, key)
        self.conn.execute(_insert_into(spec.table), row)
        self._touch(spec, row)

    def _write_update(
        self,
        spec: SyncSpec,
        key: Mapping[str, Any],
        values: dict[str, Any],
        current: Mapping[str, Any],
    ) -> None:
        self._check_text(spec, values)
        self._check_personal(spec, values, inserting=False)
        if self.journal is not None:
            self.journal.before_write(self.conn, spec, tuple(key[column] for column in spec.key_columns))
        values[VERSION_COLUMN] = self.commit_version
        key_columns = _key_columns(spec)
        key_tuple = tuple(key[column] for column in key_columns)
        if self.cache is not None and spec.kind is SyncKind.DERIVED and spec.name not in self.cache.uncached:
            written = _as_read(spec.table, values, self.conn.dialect)
            if written is not None and current is not None and len(current) == len(spec.table.c):
                self.cache.table(spec.name)[key_tuple] = {**current, **written}
                self.cache.write_behind(spec, key_tuple, values)
                self._touch(spec, current)
                return
        self._forget(spec, key_tuple)
        self.conn.execute(_update_by(spec.table, key_columns), {**values, **_key_params(key, key_columns)})
        self._touch(spec, current)

    def _forget(self, spec: SyncSpec, key: tuple[Any, ...]) -> None:
        """Drop cached rows a write to ``key`` may change: the row, or the whole master table."""
        if self.cache is None:
            return
        if spec.kind is SyncKind.MASTER:
            self.cache.forget(spec.name)
        else:
            self.cache.table(spec.name).pop(key, None)

    def _touch(self, spec: SyncSpec, row: Mapping[str, Any]) -> None:
        if spec.scope is ScopeKind.SHARED or spec.scope_column not in row:
            self.touched_scopes.add("*")
        else:
            self.touched_scopes.add(str(row[spec.scope_column]))
