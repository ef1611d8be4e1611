"""Role-based table sets and personal data, on SQLite and PostgreSQL.

Three devices of one site with three roles, the way a plant runs them:

- a warehouse clerk's tablet receives no ``hr_employees`` row at all, by bootstrap or by pull;
- a supervisor's tablet (a custom role with ``hr.view`` only) receives the employees with NULL
  ID numbers, phones, bank accounts and salaries;
- an HR officer's tablet receives everything, and keeps the personal fields encrypted in its
  replica: no ID number or phone is anywhere in the replica's bytes, while its lookups read
  them in plain text.

Every replica verifies against the server's checksum of what its role receives. A device never
writes what it may not see, and a device whose role does not receive a module cannot change it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import select

from edge_client.lookup import find_employee
from erp.hr.employee import UpdateEmployee, hr_employees
from erp.hr.personal_data import resident_id_check_character
from protocol import PROTOCOL_VERSION
from protocol.push import MutationEnvelope, PushRequest
from sync.context import Edit
from sync.schema import SCHEMA_VERSION
from tests.support import sign_in

SUPERVISOR_GRANTS = ["org.view", "inventory.view", "hr.view", "sync.resolve_rejection", "sync.acknowledge_conflict"]


def resident_id(first17: str) -> str:
    return first17 + resident_id_check_character(first17)


ID_1 = resident_id("42010219900307123")
ID_2 = resident_id("42010619881111002")
PHONE_1, PHONE_2 = "13871234567", "+86 27-8765-4321"
NAME_1 = "𠮷田 王𡈼"  # 4-byte characters, as on some ID cards


def create_employee(server, site: str, employee_no: str, name: str, **personal) -> dict:
    response = server.post("/api/v1/hr/employees", json={"site_id": site, "employee_no": employee_no, "name": name,
                                                         **personal})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def staff(server, world):
    """Two employees at the device's site and one at the other site."""
    create_employee(server, world.site, "E-001", NAME_1, id_number=ID_1, phone=PHONE_1,
                    bank_account="6222021234567890123", monthly_salary="8500.50")
    create_employee(server, world.site, "E-002", "李四", id_number=ID_2, phone=PHONE_2, monthly_salary="6200")
    create_employee(server, world.other_site, "E-900", "外站员工", id_number=resident_id("11010519491231002"),
                    phone="13900000000")
    response = server.post("/api/v1/admin/roles", json={"code": "supervisor", "name": "班组长 Supervisor",
                                                        "grants": SUPERVISOR_GRANTS})
    assert response.status_code == 201, response.text


def employees(edge) -> dict[str, object]:
    with edge.engine.begin() as conn:
        return {row.employee_no: row for row in conn.execute(select(hr_employees))}


def replica_bytes(edge) -> bytes:
    home = Path(edge.replica.home)
    return b"".join(path.read_bytes() for path in sorted(home.glob("replica.db*")) if path.is_file())


def assert_verifies(edge) -> None:
    edge.sync_once()
    report = edge.verify()
    assert report.comparable and report.matches, report.differing


def test_a_warehouse_clerk_device_receives_no_employee_rows(server, world, staff, make_edge):
    clerk = make_edge("clerk", role="warehouse_clerk")  # bootstraps
    assert employees(clerk) == {}
    create_employee(server, world.site, "E-003", "王五", phone="13700000000")  # reaches devices by pull
    clerk.sync_once()
    assert employees(clerk) == {}
    assert_verifies(clerk)
    assert clerk.verify().server["hr_employees"].rows == 0
    assert b"E-001" not in replica_bytes(clerk)


def test_a_branch_manager_device_receives_no_employee_rows_either(server, world, staff, make_edge):
    manager = make_edge("manager")  # branch_manager has no hr grant
    assert employees(manager) == {}
    assert_verifies(manager)


def test_a_role_with_hr_view_only_receives_employees_without_personal_data(server, world, staff, make_edge):
    supervisor = make_edge("supervisor", role="supervisor")
    rows = employees(supervisor)
    assert set(rows) == {"E-001", "E-002"}  # its own site only
    for row in rows.values():
        assert (row.id_number, row.phone, row.bank_account, row.monthly_salary) == (None, None, None, None)
    assert rows["E-001"].name == NAME_1
    # An edit of a personal field at HQ reaches it as a changed row, still without the value.
    employee = server.get("/api/v1/hr/employees", params={"site_id": world.site}).json()[0]
    answer = server.patch(f"/api/v1/hr/employees/{employee['id']}", json={
        "phone": {"value": "13811112222", "base_version": employee["field_versions"].get("phone", 0)},
        "name": {"value": employee["name"] + "（改）", "base_version": employee["field_versions"]["name"]}})
    assert answer.status_code == 200, answer.text
    supervisor.sync_once()
    changed = employees(supervisor)[employee["employee_no"]]
    assert changed.name.endswith("（改）") and changed.phone is None
    assert ID_1.encode() not in replica_bytes(supervisor) and PHONE_2.encode() not in replica_bytes(supervisor)
    assert_verifies(supervisor)


def test_an_hr_officer_device_holds_personal_data_encrypted_at_rest(server, world, staff, make_edge):
    officer = make_edge("officer", role="hr_officer")
    create_employee(server, world.site, "E-003", "王五", id_number=resident_id("44030519950101443"),
                    phone="13722223333", monthly_salary="7000.25")  # by pull this time
    officer.sync_once()
    rows = employees(officer)
    assert set(rows) == {"E-001", "E-002", "E-003"}
    first = rows["E-001"]
    assert (first.name, first.id_number, first.phone, first.bank_account, first.monthly_salary) == (
        NAME_1, ID_1, PHONE_1, "6222021234567890123", Decimal("8500.5"))
    with officer.engine.begin() as conn:
        assert find_employee(conn, "E-002", world.site).phone == PHONE_2
        raw = conn.exec_driver_sql("SELECT id_number, phone, monthly_salary FROM hr_employees").all()
    assert all(value is None or value.startswith("enc1:") for row in raw for value in row)
    stored = replica_bytes(officer)
    for secret in (ID_1, ID_2, PHONE_1, PHONE_2, "44030519950101443", "13722223333", "6222021234567890123",
                   "8500.5", "7000.25"):
        assert secret.encode() not in stored, secret
    assert "𠮷田".encode() in stored  # names are not personal fields: the scan does see plain text
    assert_verifies(officer)
    answer = server.get(f"/api/v1/devices/{officer.identity.device_id}/checksum").json()
    assert answer["tables"]["hr_employees"] == {"rows": 3, "digest": officer.verify().local["hr_employees"].digest}


def test_an_hr_officer_edits_offline_and_the_queued_edit_is_encrypted_too(server, world, staff, make_edge):
    officer = make_edge("officer", role="hr_officer")
    employee = employees(officer)["E-002"]
    versions = json.loads(employee._fv)
    officer.run("hr.update_employee", UpdateEmployee(
        employee_id=employee.id, phone=Edit("13655556666", versions.get("phone", 0)),
        monthly_salary=Edit(Decimal("6400"), versions.get("monthly_salary", 0))))
    assert find_employee_phone(officer, "E-002", world.site) == "13655556666"
    assert b"13655556666" not in replica_bytes(officer)  # in the replica and in the outbox
    officer.sync_once()
    hq = server.get("/api/v1/hr/employees", params={"site_id": world.site}).json()
    assert {e["employee_no"]: (e["phone"], e["monthly_salary"]) for e in hq}["E-002"] == ("13655556666", "6400")
    assert_verifies(officer)


def find_employee_phone(edge, employee_no: str, site: str) -> str | None:
    with edge.engine.begin() as conn:
        return find_employee(conn, employee_no, site).phone


def test_a_device_may_not_write_a_personal_field_it_cannot_see(server, world, staff, make_edge):
    server.put("/api/v1/admin/roles/supervisor", json={"name": "班组长 Supervisor",
                                                       "grants": [*SUPERVISOR_GRANTS, "hr.update_employee"]})
    supervisor = make_edge("supervisor", role="supervisor")
    employee = employees(supervisor)["E-001"]
    versions = json.loads(employee._fv)
    supervisor.run("hr.update_employee", UpdateEmployee(
        employee_id=employee.id, phone=Edit(None, versions.get("phone", 0))))  # "clearing" a hidden phone
    supervisor.run("hr.update_employee", UpdateEmployee(
        employee_id=employee.id, name=Edit("新名字", versions["name"])))  # its own fields: fine
    report = supervisor.sync_once()
    assert (report.applied, report.rejected) == (1, 1)
    [rejection] = [entry for entry in supervisor.inbox() if entry.kind == "rejection"]
    assert rejection.code == "sync.personal_field_forbidden"
    assert rejection.details["field"] == "phone" and rejection.details["permission"] == "hr.view_personal"
    assert rejection.details["args"]["phone"] is None  # a rejection never keeps personal arguments
    hq = {e["employee_no"]: e for e in server.get("/api/v1/hr/employees").json()}
    assert hq["E-001"]["phone"] == PHONE_1 and hq["E-001"]["name"] == "新名字"
    assert_verifies(supervisor)


def test_a_device_cannot_change_a_module_its_role_does_not_receive(server, world, staff, make_edge):
    response = server.post("/api/v1/admin/roles", json={"code": "blind_editor", "name": "blind",
                                                        "grants": ["org.view", "hr.update_employee"]})
    assert response.status_code == 201, response.text
    blind = make_edge("blind", role="blind_editor")
    assert employees(blind) == {}
    employee = server.get("/api/v1/hr/employees").json()[0]
    # Its replica has no employee to run the edit on, so the edit is sent as a tampered client would.
    edit = UpdateEmployee(employee_id=employee["id"], name=Edit("x", employee["field_versions"]["name"]))
    answer = blind.transport.push(PushRequest(
        protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION, device_id=blind.identity.device_id,
        mutations=[MutationEnvelope(seq=1, name="hr.update_employee", version=1,
                                    args=msgspec.Raw(msgspec.msgpack.encode(edit)), hlc=blind.clock.tick().text())]))
    assert [result.code for result in answer.results] == ["auth.device_role_cannot_view"]
    assert server.get(f"/api/v1/hr/employees/{employee['id']}").json()["name"] == employee["name"]
    blind.sync_once()
    [rejection] = [entry for entry in blind.inbox() if entry.kind == "rejection"]
    assert rejection.code == "auth.device_role_cannot_view"
    assert_verifies(blind)


def test_hq_reads_mask_what_the_caller_may_not_see(server, world, staff):
    password = "人事-口令-2026"
    for username, roles in (("hr", ["hr_officer"]), ("sup", ["supervisor"])):
        created = server.post("/api/v1/admin/users", json={"username": username, "display_name": username,
                                                           "password": password, "roles": roles})
        assert created.status_code == 201, created.text
    admin_token = server.headers["authorization"]
    try:
        sign_in(server, "hr", password)
        full = {e["employee_no"]: e for e in server.get("/api/v1/hr/employees").json()}
        assert full["E-001"]["id_number"] == ID_1 and full["E-001"]["monthly_salary"] == "8500.5"
        assert full["E-001"]["hidden_fields"] == []
        sign_in(server, "sup", password)
        masked = {e["employee_no"]: e for e in server.get("/api/v1/hr/employees").json()}
        assert set(masked) == {"E-001", "E-002", "E-900"}
        assert all(e[name] is None for e in masked.values()
                   for name in ("id_number", "phone", "bank_account", "monthly_salary"))
        assert masked["E-001"]["hidden_fields"] == ["bank_account", "id_number", "monthly_salary", "phone"]
        one = server.get(f"/api/v1/hr/employees/{masked['E-001']['id']}").json()
        assert one["phone"] is None and one["name"] == NAME_1
    finally:
        server.headers["authorization"] = admin_token
