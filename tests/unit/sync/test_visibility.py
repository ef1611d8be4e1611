"""Which tables and personal fields each role receives (``sync/visibility.py``), and the field
masking of pull pages, bootstrap chunks and the server's scope checksum on one database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine

from erp.access.permissions import BUILTIN_BY_CODE, BUILTIN_ROLES
from erp.hr.employee import CreateEmployee, hr_employees
from erp.org.site import CreateSite
from protocol.bootstrap import BootstrapPosition
from sync.changes import DeviceScope, count_scope_rows, read_bootstrap_chunk, read_pull_page, visible_specs
from sync.checksum import EMPTY, scope_checksum, table_checksum
from sync.registry import discover
from sync.schema import metadata, sync_clock
from sync.server_apply import apply_hq
from sync.specs import ScopeKind, SyncKind, SyncSpec, version_column
from sync.visibility import allowed, masked_fields, module_visible, visible_tables

REGISTRY = discover()
INBOX = {"sync_rejections", "sync_conflicts"}
PERSONAL = {"id_number", "phone", "bank_account", "monthly_salary"}


def tables_of(role: str) -> set[str]:
    return {spec.name for spec in visible_tables(REGISTRY, BUILTIN_BY_CODE[role].grants)}


def tables_of_module(module: str) -> set[str]:
    return {spec.name for spec in REGISTRY.ordered_specs() if REGISTRY.module_of(spec.name) == module}


@pytest.mark.parametrize("role", [role.code for role in BUILTIN_ROLES])
def test_a_role_receives_the_tables_of_exactly_the_modules_it_may_read(role):
    grants = BUILTIN_BY_CODE[role].grants
    expected = set(INBOX)
    for manifest in REGISTRY.modules:
        if allowed(grants, f"{manifest.name}.view"):
            expected |= tables_of_module(manifest.name)
    assert tables_of(role) == expected
    assert INBOX <= tables_of(role)


def test_what_the_built_in_roles_receive():
    assert "hr_employees" not in tables_of("warehouse_clerk")  # warehouse devices get no HR rows
    assert tables_of_module("inventory") <= tables_of("warehouse_clerk")
    assert "hr_employees" not in tables_of("branch_manager")  # no hr grant at all
    # and no stock; number_blocks is org's, which every role holds (its own blocks only)
    assert tables_of("hr_officer") == {"sites", "number_blocks", "hr_employees", *INBOX}
    assert tables_of("hq_admin") == set(REGISTRY.specs)
    for role in BUILTIN_ROLES:
        assert ("hr_employees" in tables_of(role.code)) == (role.code in ("hr_officer", "hq_admin"))


@pytest.mark.parametrize("role, hidden", [
    ("hr_officer", set()),
    ("hq_admin", set()),
    *[(role.code, PERSONAL) for role in BUILTIN_ROLES if role.code not in ("hr_officer", "hq_admin")],
])
def test_the_personal_fields_each_built_in_role_may_not_see(role, hidden):
    assert masked_fields(REGISTRY.spec("hr_employees"), BUILTIN_BY_CODE[role].grants) == hidden


def test_field_permissions_are_separate():
    spec = REGISTRY.spec("hr_employees")
    assert masked_fields(spec, ["hr.view", "hr.view_salary"]) == {"id_number", "phone", "bank_account"}
    assert masked_fields(spec, ["hr.view", "hr.view_personal"]) == {"monthly_salary"}
    assert masked_fields(REGISTRY.spec("items"), []) == frozenset()  # no personal fields


def test_empty_grants_see_only_the_inbox_and_the_inbox_is_always_seen():
    assert {spec.name for spec in visible_tables(REGISTRY, [])} == INBOX
    assert module_visible("sync", []) and not module_visible("hr", ["hr.view_personal"])
    assert module_visible("hr", ["hr.*"]) and module_visible("hr", ["*"])


def test_the_visible_order_is_the_registry_order():
    names = [spec.name for spec in REGISTRY.ordered_specs()]
    for role in BUILTIN_ROLES:
        visible = [spec.name for spec in visible_tables(REGISTRY, role.grants)]
        assert visible == [name for name in names if name in visible]


def test_personal_fields_must_be_plain_columns():
    table = Table("probe", MetaData(), Column("id", String(36), primary_key=True), Column("site_id", String(36)),
                  Column("phone", String(20)), version_column())
    with pytest.raises(ValueError, match="not a column"):
        SyncSpec(table, SyncKind.LEDGER, ScopeKind.SITE, "site_id", personal_fields={"nope": "x.view_personal"})
    for column in ("id", "site_id", "_version"):
        with pytest.raises(ValueError, match="cannot be personal"):
            SyncSpec(table, SyncKind.LEDGER, ScopeKind.SITE, "site_id", personal_fields={column: "x.view_personal"})
    spec = SyncSpec(table, SyncKind.LEDGER, ScopeKind.SITE, "site_id", personal_fields={"phone": "x.view_personal"})
    with pytest.raises(TypeError):
        spec.personal_fields["phone"] = "changed"  # read-only once declared
    hash(spec)  # statements are cached by spec


# -- what a device of each role is sent, on one database -----------------------------------------

SITE, OTHER = "site-a", "site-b"


@pytest.fixture(scope="module")
def conn():
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        metadata.create_all(conn)
        conn.execute(sync_clock.insert().values(id=1, version=0))
        for site in (SITE, OTHER):
            run(conn, "org.create_site", CreateSite(site_id=site, code=site, name=site, kind="factory"))
        run(conn, "hr.create_employee", CreateEmployee(
            employee_id="e-1", site_id=SITE, employee_no="E-1", name="张三 𠮷", id_number="X1234567",
            phone="13800000000", bank_account="6222020000000000", monthly_salary=Decimal("9000.10")))
        run(conn, "hr.create_employee", CreateEmployee(employee_id="e-2", site_id=OTHER, employee_no="E-2",
                                                       name="李四", phone="13900000000"))
        yield conn
    engine.dispose()


def run(conn, name, args):
    apply_hq(conn, REGISTRY, REGISTRY.resolve_latest(name), args)


def scope(role: str) -> DeviceScope:
    return DeviceScope(site_id=SITE, device_id="device-1", grants=frozenset(BUILTIN_BY_CODE[role].grants))


def employee_rows(patches_or_chunks) -> list[dict]:
    return [dict(zip(item.columns, row)) for item in patches_or_chunks if item.table == "hr_employees"
            for row in item.rows]


def all_chunks(conn, device: DeviceScope) -> list:
    chunks, position = [], BootstrapPosition(snapshot_version=0, table_index=0, after_key=None)
    while (chunk := read_bootstrap_chunk(conn, REGISTRY, device, position, 100)) is not None:
        chunks.append(chunk)
        position = chunk.position
    return chunks


@pytest.mark.parametrize("role", ["hr_officer", "warehouse_clerk", "branch_manager"])
def test_pull_bootstrap_and_checksum_agree_on_what_a_role_receives(conn, role):
    device = scope(role)
    patches, _cursor, _more = read_pull_page(conn, REGISTRY, device, 0, 1000)
    chunks = all_chunks(conn, device)
    assert {p.table for p in patches} <= {spec.name for spec in visible_specs(REGISTRY, device)}
    assert {c.table for c in chunks} <= {spec.name for spec in visible_specs(REGISTRY, device)}
    pulled, booted = employee_rows(patches), employee_rows(chunks)
    assert pulled == booted
    checksum = scope_checksum(conn, REGISTRY, site_id=SITE, device_id="device-1", grants=device.grants)
    assert set(checksum) == set(REGISTRY.specs)  # every table is named; the hidden ones empty
    if role == "hr_officer":
        assert [row["employee_no"] for row in pulled] == ["E-1"]  # its site only
        assert pulled[0]["phone"] == "13800000000" and pulled[0]["monthly_salary"] == "9000.1"
        assert checksum["hr_employees"].rows == 1
    else:
        assert pulled == [] and checksum["hr_employees"] == EMPTY
    assert count_scope_rows(conn, REGISTRY, device) == sum(len(c.rows) for c in chunks)


def test_a_role_with_hr_view_only_is_sent_nulls_and_fingerprinted_with_nulls(conn):
    device = DeviceScope(site_id=SITE, device_id="device-1", grants=frozenset({"org.view", "hr.view"}))
    patches, _cursor, _more = read_pull_page(conn, REGISTRY, device, 0, 1000)
    [row] = employee_rows(patches)
    assert [row[name] for name in sorted(PERSONAL)] == [None] * 4 and row["name"] == "张三 𠮷"
    assert employee_rows(all_chunks(conn, device)) == [row]
    masked = scope_checksum(conn, REGISTRY, site_id=SITE, device_id="device-1", grants=device.grants)
    full = scope_checksum(conn, REGISTRY, site_id=SITE, device_id="device-1", grants={"*"})
    assert masked["hr_employees"].rows == full["hr_employees"].rows == 1
    assert masked["hr_employees"].digest != full["hr_employees"].digest
    # The masked fingerprint is the one of a replica holding exactly what was sent.
    replica = create_engine("sqlite://")
    with replica.begin() as local:
        metadata.create_all(local, tables=[hr_employees])
        local.execute(hr_employees.insert(), [row])
        local_sum = table_checksum(local, REGISTRY.spec("hr_employees"), site_id=SITE, device_id="device-1")
    assert local_sum == masked["hr_employees"]
