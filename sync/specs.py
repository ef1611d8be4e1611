"""How each replicated table syncs: its kind, its scope, its conflict policy.

Every table a device replicates is declared here by its module, exactly once. The engine
derives pull queries, write checks and conflict handling from these declarations; a test
fails for any table that carries sync columns without one.

Kinds:
- ``LEDGER``: append-only, immutable, idempotent by id. A correction is a reversal row.
- ``DERIVED``: computed on the server from ledgers. Devices never push rows of it; their
  optimistic copy is replaced by the server's on every pull.
- ``MASTER``: reference data with a field-level merge. An edit carries the base version of
  each field it changes; the same field changed on both sides resolves by ``conflict_policy``
  and leaves a conflict record for the device and for HQ.

Personal fields (``personal_fields``, column → permission) hold personal data in the sense of
PIPL: ID numbers, phone numbers, bank accounts, salaries. A device whose role lacks a field's
permission receives NULL in it and may not write it (``sync/visibility.py``,
``sync/context.py``); a device that receives it stores it encrypted (``sync/personal.py``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from sqlalchemy import BigInteger, Column, Table, Text


class SyncKind(enum.StrEnum):
    LEDGER = "ledger"
    DERIVED = "derived"
    MASTER = "master"


class ScopeKind(enum.StrEnum):
    SHARED = "shared"  # every device receives every row (items, units, sites)
    SITE = "site"  # a device receives rows of its own site
    DEVICE = "device"  # a device receives rows addressed to it (its rejections, conflicts)


class ConflictPolicy(enum.StrEnum):
    SERVER_WINS = "server_wins"
    DEVICE_WINS = "device_wins"


VERSION_COLUMN = "_version"
FIELD_VERSIONS_COLUMN = "_fv"


def version_column() -> Column:
    """The server change sequence that last wrote the row; pull reads ranges of it."""
    return Column(VERSION_COLUMN, BigInteger, nullable=False, default=0, index=True)


def field_versions_column() -> Column:
    """JSON text ``{field: version}`` for master tables: the base of field-level merge."""
    return Column(FIELD_VERSIONS_COLUMN, Text, nullable=False, default="{}")


@dataclass(frozen=True)
class SyncSpec:
    table: Table
    kind: SyncKind
    scope: ScopeKind
    scope_column: str | None = None
    conflict_policy: ConflictPolicy = ConflictPolicy.SERVER_WINS
    # Shared master rows are created at HQ; a device may only edit fields of existing rows.
    # False: rows are created at HQ only; a device may still edit fields of existing rows.
    device_may_insert: bool = True
    # Fields a field-level merge may touch; empty means every non-key, non-sync column.
    mergeable_fields: tuple[str, ...] = field(default=())
    # Columns holding personal data, each with the permission needed to see and write it.
    # Never a key or scope column: those must reach every device that receives the row.
    personal_fields: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if VERSION_COLUMN not in self.table.c:
            raise ValueError(f"{self.table.name}: replicated tables need a {VERSION_COLUMN} column")
        if self.scope is not ScopeKind.SHARED and self.scope_column not in self.table.c:
            raise ValueError(f"{self.table.name}: scope column {self.scope_column!r} missing")
        if self.kind is SyncKind.MASTER and FIELD_VERSIONS_COLUMN not in self.table.c:
            raise ValueError(f"{self.table.name}: master tables need a {FIELD_VERSIONS_COLUMN} column")
        for name in self.personal_fields:
            if name not in self.table.c:
                raise ValueError(f"{self.table.name}: personal field {name!r} is not a column")
            if name in self.key_columns or name == self.scope_column or name.startswith("_"):
                raise ValueError(f"{self.table.name}: {name!r} is a key, scope or sync column, "
                                 "which cannot be personal")
        object.__setattr__(self, "personal_fields", MappingProxyType(dict(self.personal_fields)))

    @property
    def name(self) -> str:
        return str(self.table.name)

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(str(column.name) for column in self.table.primary_key.columns)

    @property
    def data_columns(self) -> tuple[str, ...]:
        return tuple(str(column.name) for column in self.table.columns)

    def merge_fields(self) -> tuple[str, ...]:
        if self.mergeable_fields:
            return self.mergeable_fields
        skip = set(self.key_columns) | {VERSION_COLUMN, FIELD_VERSIONS_COLUMN}
        if self.scope_column:
            skip.add(self.scope_column)
        return tuple(name for name in self.data_columns if name not in skip)
