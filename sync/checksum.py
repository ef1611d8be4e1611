"""Scope checksums: a fingerprint, per replicated table, of the rows one device should hold.

The server computes it over the device's scope (shared tables, its site's rows, rows addressed
to it); the device computes it over its replica. A device with nothing pending whose cursor is
at the server's clock must produce the same checksum; anything else is a divergence, and the
table name says where.

Invariants:
- The checksum depends on row values only, not on row order or storage form: decimals are
  compared by their canonical text (``1.50`` = ``1.5``), times in UTC, booleans as integers, so
  SQLite text, PostgreSQL NUMERIC and timestamptz give the same figure.
- Every column counts, ``_version`` and field versions included: a replica that holds the
  right values at the wrong version would pull the wrong changes later.
- Per table: the number of rows and the sum of 64-bit row hashes modulo 2**64, which does not
  depend on order and can be compared between two independent readers.
- The server fingerprints what the device's role receives (``sync/visibility.py``): a table
  the role may not read counts as empty, a personal field it may not see as NULL. The device
  fingerprints its replica as it is, personal values decrypted (their column type does it), so
  a replica that holds anything it should not, a hidden row or a hidden value, fails to verify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

import msgspec
from sqlalchemy import Connection, null, select

from sync.registry import Registry
from sync.specs import ScopeKind, SyncSpec
from sync.types import decimal_text, utc_text
from sync.visibility import masked_fields, visible_tables

_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class TableChecksum:
    rows: int
    digest: str  # 16 hex digits

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "digest": self.digest}


def _canonical(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def _row_hash(values: tuple[Any, ...]) -> int:
    encoded = msgspec.msgpack.encode([_canonical(v) for v in values])
    return int.from_bytes(hashlib.blake2b(encoded, digest_size=8).digest(), "big")


EMPTY = TableChecksum(0, f"{0:016x}")


def table_checksum(conn: Connection, spec: SyncSpec, *, site_id: str, device_id: str,
                   masked: frozenset[str] = frozenset()) -> TableChecksum:
    """Fingerprint of the rows of ``spec`` that a device of ``site_id`` (id ``device_id``) holds,
    the ``masked`` personal fields counted as NULL."""
    # Typed columns: the dialect's values become Python values (personal ones decrypted).
    query = select(*(null().label(column.name) if column.name in masked else column for column in spec.table.columns))
    if spec.scope is ScopeKind.SITE:
        query = query.where(spec.table.c[spec.scope_column] == site_id)
    elif spec.scope is ScopeKind.DEVICE:
        query = query.where(spec.table.c[spec.scope_column] == device_id)
    rows, total = 0, 0
    for row in conn.execute(query):
        rows += 1
        total = (total + _row_hash(tuple(row))) & _MASK
    return TableChecksum(rows, f"{total:016x}")


def scope_checksum(conn: Connection, registry: Registry, *, site_id: str, device_id: str,
                   grants: Iterable[str] | None = None) -> dict[str, TableChecksum]:
    """Every replicated table's fingerprint for one device's scope, keyed by table name.

    ``grants``: the device's role, on the server; the tables it may not read are ``EMPTY`` and
    its hidden personal fields NULL. None (the device's own replica): every table as it is.
    """
    if grants is None:
        return {spec.name: table_checksum(conn, spec, site_id=site_id, device_id=device_id)
                for spec in registry.ordered_specs()}
    grants = frozenset(grants)
    visible = {spec.name for spec in visible_tables(registry, grants)}
    return {spec.name: table_checksum(conn, spec, site_id=site_id, device_id=device_id,
                                      masked=masked_fields(spec, grants)) if spec.name in visible else EMPTY
            for spec in registry.ordered_specs()}


def differing_tables(left: dict[str, TableChecksum], right: dict[str, TableChecksum]) -> list[str]:
    """Names of the tables whose fingerprints differ (or that only one side has)."""
    return sorted(name for name in left.keys() | right.keys() if left.get(name) != right.get(name))
