"""Declaration checks over the whole schema: every table that carries sync columns is declared
by exactly one ``SyncSpec`` of a module manifest, and every table in the shared metadata either
replicates or is declared server-only. A new table that replicates without a declaration (or a
declaration that is lost) fails here. Also checks ``SyncSpec``'s own validation."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text

import sync.builtin  # noqa: F401  (the engine's own tables join the metadata)
import sync.schema
from sync.registry import discover
from sync.specs import (
    FIELD_VERSIONS_COLUMN,
    VERSION_COLUMN,
    ScopeKind,
    SyncKind,
    SyncSpec,
    field_versions_column,
    version_column,
)


def declared_spec_counts() -> Counter[str]:
    registry = discover()
    return Counter(spec.name for module in registry.modules for spec in module.sync_specs)


def server_only_tables() -> set[str]:
    return {name for module in discover().modules for name in module.server_only_tables}


def test_every_table_with_a_version_column_has_exactly_one_sync_spec() -> None:
    registry = discover()
    counts = declared_spec_counts()
    versioned = [name for name, table in sync.schema.metadata.tables.items() if VERSION_COLUMN in table.c]
    replicated = [name for name in versioned if name not in server_only_tables()]
    assert replicated  # the check is not vacuous
    undeclared = [name for name in replicated if counts[name] == 0]
    assert undeclared == [], f"replicated tables without a SyncSpec: {undeclared}"
    duplicated = [name for name in versioned if counts[name] > 1]
    assert duplicated == [], f"tables with more than one SyncSpec: {duplicated}"
    for name in replicated:
        assert counts[name] == 1
        assert registry.specs[name].table is sync.schema.metadata.tables[name]


def test_every_table_is_replicated_or_declared_server_only() -> None:
    registry = discover()
    server_only = server_only_tables()
    tables = set(sync.schema.metadata.tables)
    unaccounted = sorted(tables - set(registry.specs) - server_only)
    assert unaccounted == [], f"tables neither replicated nor declared server-only: {unaccounted}"
    assert not set(registry.specs) & server_only, "a table cannot be both replicated and server-only"
    assert server_only <= tables, f"server-only declarations for missing tables: {sorted(server_only - tables)}"
    assert set(sync.schema.SERVER_ONLY_TABLES) <= server_only


def test_every_spec_names_a_table_of_the_shared_metadata() -> None:
    counts = declared_spec_counts()
    for name, spec in discover().specs.items():
        assert counts[name] == 1
        assert sync.schema.metadata.tables.get(name) is spec.table
        assert VERSION_COLUMN in spec.table.c
        if spec.kind is SyncKind.MASTER:
            assert FIELD_VERSIONS_COLUMN in spec.table.c
            assert set(spec.merge_fields()) <= set(spec.data_columns)
        if spec.scope is not ScopeKind.SHARED:
            assert spec.scope_column in spec.table.c


def test_the_declaration_check_catches_an_undeclared_replicated_table() -> None:
    # The same rule applied to a metadata holding one undeclared table with a _version column.
    probe_metadata = MetaData()
    Table("orphan_rows", probe_metadata, Column("id", Integer, primary_key=True), version_column())
    declared = set(discover().specs) | server_only_tables()
    undeclared = [name for name, table in probe_metadata.tables.items()
                  if VERSION_COLUMN in table.c and name not in declared]
    assert undeclared == ["orphan_rows"]


# -- SyncSpec validation -----------------------------------------------------------------------


def probe_table(*columns: Column) -> Table:
    return Table("probe", MetaData(), Column("id", String(36), primary_key=True), *columns)


def test_spec_requires_a_version_column() -> None:
    with pytest.raises(ValueError, match=VERSION_COLUMN):
        SyncSpec(probe_table(), SyncKind.LEDGER, ScopeKind.SHARED)


def test_spec_requires_its_scope_column() -> None:
    with pytest.raises(ValueError, match="scope column"):
        SyncSpec(probe_table(version_column()), SyncKind.LEDGER, ScopeKind.SITE, "site_id")
    spec = SyncSpec(probe_table(version_column(), Column("site_id", String(36))), SyncKind.LEDGER,
                    ScopeKind.SITE, "site_id")
    assert spec.key_columns == ("id",)


def test_master_spec_requires_field_versions() -> None:
    with pytest.raises(ValueError, match=FIELD_VERSIONS_COLUMN):
        SyncSpec(probe_table(version_column()), SyncKind.MASTER, ScopeKind.SHARED)


def test_merge_fields_default_to_every_non_key_non_sync_column() -> None:
    table = probe_table(Column("site_id", String(36)), Column("name", Text), Column("note", Text),
                        version_column(), field_versions_column())
    spec = SyncSpec(table, SyncKind.MASTER, ScopeKind.SITE, "site_id")
    assert spec.merge_fields() == ("name", "note")
    narrowed = SyncSpec(table, SyncKind.MASTER, ScopeKind.SITE, "site_id", mergeable_fields=("name",))
    assert narrowed.merge_fields() == ("name",)
