"""The HR module on its own: the pure checks of personal data (properties), and the employee
mutations through ``MutationContext`` on SQLite as the server applies them: validation codes
that never repeat the refused value, the rule that nobody writes a personal field they may not
see, conflict records without personal values, and rejections that keep no personal arguments."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, insert, select

from erp.access.permissions import BUILTIN_BY_CODE, allowed
from erp.hr import errors
from erp.hr.employee import hr_employees
from erp.hr.personal_data import (
    bank_account_problem, id_number_problem, phone_problem, resident_id_check_character, salary_problem,
)
from protocol.base import encode
from protocol.push import MutationEnvelope
from sync.builtin import sync_conflicts, sync_rejections
from sync.context import Actor, MutationContext, MutationRef, Side
from sync.errors import MutationRejected, PersonalFieldForbidden
from sync.registry import discover
from sync.schema import metadata, sync_clock, sync_devices
from sync.server_apply import apply_hq, apply_push, decode_batch
from tests.unit.handler_runner import apply_in_savepoint

REGISTRY = discover()
digits = st.text("0123456789", min_size=17, max_size=17)

# -- the checks ----------------------------------------------------------------------------------


@given(digits)
def test_a_resident_id_with_its_check_character_passes(first17):
    assert id_number_problem(first17 + resident_id_check_character(first17)) is None


@given(digits, st.sampled_from("0123456789X"))
def test_a_resident_id_with_any_other_check_character_is_refused(first17, check):
    assume(check != resident_id_check_character(first17))
    problem = id_number_problem(first17 + check)
    assert problem is not None and first17 not in problem


@given(digits, st.integers(0, 16), st.integers(1, 9))
def test_a_single_mistyped_digit_is_caught(first17, position, shift):
    good = first17 + resident_id_check_character(first17)
    typo = good[:position] + str((int(good[position]) + shift) % 10) + good[position + 1:]
    assert id_number_problem(typo) is not None  # MOD 11-2 catches every single-digit error


def test_known_resident_ids_and_other_documents():
    assert id_number_problem("11010519491231002X") is None  # the standard's own example
    assert id_number_problem("110105194912310021") is not None
    assert id_number_problem("E12345678") is None  # a passport
    for bad in ("", "e12345678", "ID 123", "A" * 33, "１２３"):
        assert id_number_problem(bad) is not None


@given(st.text(max_size=45))
def test_checks_never_repeat_the_value_they_refuse(text):
    assume(len(text) >= 4)
    for check in (id_number_problem, phone_problem, bank_account_problem):
        problem = check(text)
        assert problem is None or text not in problem


def test_phones_bank_accounts_and_salaries():
    for good in ("13812345678", "+86 138-1234-5678", "027-87654321", "12345"):
        assert phone_problem(good) is None, good
    for bad in ("1234", "138 1234 5678 9012 345678", "+", "138--1234", " 13812345678", "abc12345"):
        assert phone_problem(bad) is not None, bad
    assert bank_account_problem("6222021234567890123") is None
    assert bank_account_problem("DE89370400440532013000") is None
    for bad in ("1234567", "6222 0212 3456", "de89370400440532013000", "1" * 35):
        assert bank_account_problem(bad) is not None, bad
    for good in ("0", "8500.5", "8500.50", "8500.500", "999999999999.99"):
        assert salary_problem(Decimal(good)) is None, good
    for bad in ("-1", "8500.505", "1E12", "NaN", "Infinity", "1E+40"):
        assert salary_problem(Decimal(bad)) is not None, bad


@settings(max_examples=200)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=Decimal("999999999999.99")))
def test_every_amount_to_the_fen_below_the_cap_is_a_salary(amount):
    assert salary_problem(amount) is None


# -- the mutations -------------------------------------------------------------------------------

SITE, OTHER = "site-A", "site-B"
HQ = Actor(None, None, "hq")
WHEN = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def actor(role: str | None = None, *grants: str, site: str = SITE) -> Actor:
    held = tuple(grants) + (BUILTIN_BY_CODE[role].grants if role else ())
    return Actor("dev1", site, "someone", permits=lambda permission: allowed(held, permission))


class World:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.version = 0

    def run(self, name: str, who: Actor, /, **args: Any) -> MutationContext:
        definition = REGISTRY.resolve_latest(name)
        self.version += 1
        ref = MutationRef(who.device_id, self.version, name, 1, f"{self.version:015d}-00000-x")
        ctx = MutationContext(self.conn, REGISTRY, Side.SERVER, who, ref, commit_version=self.version)
        apply_in_savepoint(self.conn, definition, ctx, args)
        return ctx

    def employee(self, employee_id: str = "e-1") -> Any:
        return self.conn.execute(select(hr_employees).where(hr_employees.c.id == employee_id)).one()

    def versions(self, employee_id: str = "e-1") -> dict[str, int]:
        return json.loads(self.employee(employee_id)._fv)


@pytest.fixture
def world() -> Iterator[World]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        metadata.create_all(conn)
        conn.execute(insert(sync_clock).values(id=1, version=0))
        world = World(conn)
        for site in (SITE, OTHER):
            world.run("org.create_site", HQ, site_id=site, code=site, name=site, kind="factory")
        world.run("hr.create_employee", HQ, employee_id="e-1", site_id=SITE, employee_no="E-1", name="张三 𠮷",
                  id_number="11010519491231002X", phone="13800000000", bank_account="6222020000000000",
                  monthly_salary="9000.10")
        yield world
    engine.dispose()


def test_an_employee_is_created_and_edited_field_by_field(world):
    row = world.employee()
    assert (row.name, row.monthly_salary, row.active) == ("张三 𠮷", Decimal("9000.1"), True)
    versions = world.versions()
    world.run("hr.update_employee", actor("hr_officer"), employee_id="e-1",
              phone={"value": "+86 139-0000-0000", "base_version": versions["phone"]},
              active={"value": False, "base_version": versions["active"]})
    row = world.employee()
    assert (row.phone, row.active, row.id_number) == ("+86 139-0000-0000", False, "11010519491231002X")


@pytest.mark.parametrize("args, code", [
    ({"site_id": "nowhere"}, errors.UNKNOWN_SITE),
    ({"employee_no": "E-1"}, errors.EMPLOYEE_NO_TAKEN),
    ({"employee_no": " E-2"}, errors.INVALID_EMPLOYEE_NO),
    ({"name": "  "}, errors.INVALID_NAME),
    ({"id_number": "110105194912310021"}, errors.INVALID_ID_NUMBER),
    ({"phone": "12"}, errors.INVALID_PHONE),
    ({"bank_account": "6222 0200"}, errors.INVALID_BANK_ACCOUNT),
    ({"monthly_salary": "-5"}, errors.INVALID_SALARY),
    ({"monthly_salary": "100.001"}, errors.INVALID_SALARY),
])
def test_invalid_employees_are_refused_with_stable_codes(world, args, code):
    base = {"employee_id": "e-2", "site_id": SITE, "employee_no": "E-2", "name": "李四"}
    with pytest.raises(MutationRejected) as refused:
        world.run("hr.create_employee", HQ, **{**base, **args})
    assert refused.value.code == code
    if "id_number" in args or "phone" in args or "bank_account" in args or "monthly_salary" in args:
        [value] = args.values()
        assert str(value) not in refused.value.message + json.dumps(refused.value.details)  # stays out of it
    with pytest.raises(MutationRejected) as missing:
        world.run("hr.update_employee", HQ, employee_id="nobody")
    assert missing.value.code == errors.UNKNOWN_EMPLOYEE


def test_nobody_writes_a_personal_field_they_may_not_see(world):
    supervisor = actor(None, "hr.view", "hr.create_employee", "hr.update_employee")  # not hr.view_personal
    versions = world.versions()
    # Creating without personal data is fine; with it, refused.
    world.run("hr.create_employee", supervisor, employee_id="e-2", site_id=SITE, employee_no="E-2", name="李四")
    with pytest.raises(PersonalFieldForbidden) as refused:
        world.run("hr.create_employee", supervisor, employee_id="e-3", site_id=SITE, employee_no="E-3",
                  name="王五", phone="13700000000")
    assert refused.value.code == "sync.personal_field_forbidden" and refused.value.http_status == 403
    assert refused.value.details == {"table": "hr_employees", "field": "phone", "permission": "hr.view_personal"}
    # Editing one, even clearing it (which would erase what it cannot see), is refused.
    for field, value in (("phone", None), ("monthly_salary", "1"), ("bank_account", "62220200000000001")):
        with pytest.raises(PersonalFieldForbidden):
            world.run("hr.update_employee", supervisor, employee_id="e-1",
                      **{field: {"value": value, "base_version": versions[field]}})
    world.run("hr.update_employee", supervisor, employee_id="e-1",
              name={"value": "张三丰", "base_version": versions["name"]})
    # Salary and personal data are separate permissions.
    payroll = actor(None, "hr.view", "hr.update_employee", "hr.view_salary")
    world.run("hr.update_employee", payroll, employee_id="e-1",
              monthly_salary={"value": "9500", "base_version": versions["monthly_salary"]})
    with pytest.raises(PersonalFieldForbidden):
        world.run("hr.update_employee", payroll, employee_id="e-1",
                  id_number={"value": "E1234567", "base_version": versions["id_number"]})
    row = world.employee()
    assert (row.name, row.phone, row.monthly_salary) == ("张三丰", "13800000000", Decimal("9500"))


def test_a_personal_field_conflict_records_the_field_not_its_values(world):
    base = world.versions()
    world.run("hr.update_employee", HQ, employee_id="e-1",
              phone={"value": "13811111111", "base_version": base["phone"]},
              name={"value": "HQ 改名", "base_version": base["name"]})
    ctx = world.run("hr.update_employee", actor("hr_officer"), employee_id="e-1",
                    phone={"value": "13822222222", "base_version": base["phone"]},
                    name={"value": "设备改名", "base_version": base["name"]})
    conflicts = {c.field: c for c in ctx.conflicts}
    assert (conflicts["phone"].device_value, conflicts["phone"].server_value, conflicts["phone"].kept) == (
        None, None, "server")
    assert (conflicts["name"].device_value, conflicts["name"].server_value) == ("设备改名", "HQ 改名")
    assert world.employee().phone == "13811111111"


def test_a_stored_rejection_keeps_no_personal_arguments(world):
    world.conn.execute(insert(sync_devices).values(id="D", site_id=SITE, name="d", token_hash="x",
                                                   last_applied_seq=0, enrolled_at=WHEN, role_code="hr_officer"))
    definition = REGISTRY.resolve_latest("hr.create_employee")
    args = definition.convert({"employee_id": "e-9", "site_id": SITE, "employee_no": "E-1", "name": "重号",
                               "id_number": "E7654321", "phone": "13766667777", "monthly_salary": "1"})
    envelope = MutationEnvelope(seq=1, name=definition.name, version=1, args=msgspec.Raw(encode(args)),
                                hlc="000000000000001-00000-D")
    batch = decode_batch(REGISTRY, [envelope], "application/msgpack")
    outcome = apply_push(world.conn, REGISTRY, "D", batch, now=WHEN)
    assert [r.code for r in outcome.response.results] == [errors.EMPLOYEE_NO_TAKEN]
    stored = world.conn.execute(select(sync_rejections)).one()
    kept = json.loads(stored.args_json)
    assert kept["employee_no"] == "E-1" and kept["name"] == "重号"
    assert (kept["id_number"], kept["phone"], kept["monthly_salary"], kept["bank_account"]) == (None,) * 4
    assert "13766667777" not in stored.args_json + stored.details_json + stored.message
    assert world.conn.execute(select(sync_conflicts)).all() == []


def test_hq_runs_mutations_with_the_users_permissions(world):
    with pytest.raises(PersonalFieldForbidden):
        apply_hq(world.conn, REGISTRY, REGISTRY.resolve_latest("hr.update_employee"),
                 REGISTRY.resolve_latest("hr.update_employee").convert(
                     {"employee_id": "e-1", "phone": {"value": None, "base_version": world.versions()["phone"]}}),
                 permits=lambda permission: permission in ("hr.view", "hr.update_employee"))
