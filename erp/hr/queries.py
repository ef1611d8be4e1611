"""Read models of the HR module for the HQ API: plain functions over a Connection.

The caller's grants decide which personal fields are filled: a field whose permission they lack
is NULL (``sync.visibility.allowed``, the rule that also masks what devices receive), so the HTTP layer
only serializes. Lists are paginated by keyset (``after`` = last id seen).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

import msgspec
from sqlalchemy import Connection, select

from erp.hr.employee import PERSONAL_FIELDS, hr_employees
from sync.visibility import allowed


class EmployeeView(msgspec.Struct):
    id: str
    site_id: str
    employee_no: str
    name: str
    id_number: str | None  # NULL: empty, or hidden from the caller (hr.view_personal)
    phone: str | None  # likewise
    bank_account: str | None  # likewise
    monthly_salary: Decimal | None  # NULL: empty, or hidden from the caller (hr.view_salary)
    active: bool
    field_versions: dict[str, int]
    hidden_fields: list[str]  # the personal fields the caller may not see, NULL above


def _hidden(grants: Iterable[str]) -> list[str]:
    grants = tuple(grants)
    return sorted(name for name, permission in PERSONAL_FIELDS.items() if not allowed(grants, permission))


def _view(row, hidden: list[str]) -> EmployeeView:
    values = {name: (None if name in hidden else row._mapping[name]) for name in PERSONAL_FIELDS}
    return EmployeeView(row.id, row.site_id, row.employee_no, row.name, values["id_number"], values["phone"],
                        values["bank_account"], values["monthly_salary"], bool(row.active),
                        msgspec.json.decode(row._fv), hidden)


def list_employees(conn: Connection, *, grants: Iterable[str], site_id: str | None, active: bool | None,
                   limit: int, after: str | None) -> list[EmployeeView]:
    hidden = _hidden(grants)
    # Hidden columns are not even read, so they never reach this process.
    columns = [column for column in hr_employees.columns if column.name not in hidden]
    query = select(*columns).order_by(hr_employees.c.id).limit(limit)
    if site_id is not None:
        query = query.where(hr_employees.c.site_id == site_id)
    if active is not None:
        query = query.where(hr_employees.c.active == active)
    if after:
        query = query.where(hr_employees.c.id > after)
    return [_view(row, hidden) for row in conn.execute(query)]


def get_employee(conn: Connection, employee_id: str, *, grants: Iterable[str]) -> EmployeeView | None:
    hidden = _hidden(grants)
    columns = [column for column in hr_employees.columns if column.name not in hidden]
    row = conn.execute(select(*columns).where(hr_employees.c.id == employee_id)).first()
    return None if row is None else _view(row, hidden)
