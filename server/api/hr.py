"""HQ API for HR: employees, with personal fields masked by the caller's permissions.

Reads call ``erp.hr.queries`` with the caller's grants: an ID number, phone or bank account
without ``hr.view_personal``, a salary without ``hr.view_salary``, comes back as null and is
named in ``hidden_fields``. Writes run the module's mutations (``HqCommands``), which refuse a
personal field the caller may not see (403 ``sync.personal_field_forbidden``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter

from erp.hr import queries
from erp.hr.employee import CreateEmployee, UpdateEmployee
from erp.hr.queries import EmployeeView
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands, provide_db, provide_hq
from sync.context import Edit
from sync.errors import NotFound
from sync.ids import new_id

Limit = Annotated[int, Parameter(ge=1, le=1000)]


class NewEmployee(msgspec.Struct):
    site_id: str
    employee_no: str
    name: str
    id_number: str | None = None
    phone: str | None = None
    bank_account: str | None = None
    monthly_salary: Decimal | None = None
    id: str | None = None


class EmployeeEdit(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields to change, each with the field version it was based on (from GET)."""

    name: Edit[str] | None = None
    id_number: Edit[str | None] | None = None
    phone: Edit[str | None] | None = None
    bank_account: Edit[str | None] | None = None
    monthly_salary: Edit[Decimal | None] | None = None
    active: Edit[bool] | None = None


class EmployeeEditResult(msgspec.Struct):
    """What an edit did: fields changed meanwhile by someone else are listed, not overwritten
    (a personal field's conflict names the field only)."""

    id: str
    conflicts: list[dict]


class HrController(Controller):
    path = "/api/v1/hr"
    tags = ["hr"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/employees", opt={"permission": "hr.view"})
    async def list_employees(self, db: Database, principal: Principal, site_id: str | None = None,
                             active: bool | None = None, limit: Limit = 100,
                             after: str | None = None) -> list[EmployeeView]:
        """Employees by id, a page at a time (``after`` = the last id seen)."""
        return await db.read(queries.list_employees, grants=principal.grants,
                             site_id=site_in_scope(principal, site_id), active=active, limit=limit, after=after)

    @get("/employees/{employee_id:str}", opt={"permission": "hr.view"})
    async def get_employee(self, db: Database, principal: Principal, employee_id: str) -> EmployeeView:
        employee = await db.read(queries.get_employee, employee_id, grants=principal.grants)
        if employee is None:
            raise NotFound("no such employee", employee_id=employee_id)
        site_in_scope(principal, employee.site_id)
        return employee

    @post("/employees", opt={"permission": "hr.create_employee"})
    async def create_employee(self, data: NewEmployee, hq: HqCommands, db: Database,
                              principal: Principal) -> EmployeeView:
        employee_id = data.id or new_id()
        await hq.run("hr.create_employee", CreateEmployee(
            employee_id=employee_id, site_id=data.site_id, employee_no=data.employee_no, name=data.name,
            id_number=data.id_number, phone=data.phone, bank_account=data.bank_account,
            monthly_salary=data.monthly_salary))
        return await db.read(queries.get_employee, employee_id, grants=principal.grants)

    @patch("/employees/{employee_id:str}", opt={"permission": "hr.update_employee"})
    async def edit_employee(self, employee_id: str, data: EmployeeEdit, hq: HqCommands) -> EmployeeEditResult:
        found = await hq.run("hr.update_employee", UpdateEmployee(
            employee_id=employee_id, name=data.name, id_number=data.id_number, phone=data.phone,
            bank_account=data.bank_account, monthly_salary=data.monthly_salary, active=data.active))
        return EmployeeEditResult(employee_id, [
            {"field": c.field, "yours": c.device_value, "current": c.server_value, "kept": c.kept} for c in found])


CONTROLLERS = [HrController]
