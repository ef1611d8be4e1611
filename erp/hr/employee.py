"""Employees: who works at a site, with the personal data HR keeps about them.

Every person who works for the company is one row, office staff and shop-floor operators alike
(manufacturing will pay operators piece rates against these rows). An employee belongs to one
site (scope ``site``); the employee number (工号) is unique across the company and never
changes. Employees are master data: HR creates them, at HQ or on an HR tablet of the site, and
edits them field by field (policy: server wins, as for every master table).

Personal data (PIPL): the ID number, phone number and bank account need ``hr.view_personal``,
the monthly salary ``hr.view_salary`` (``PERSONAL_FIELDS``). Whoever lacks the permission reads
NULL there (HQ API, pull, bootstrap) and may not write the field; a device that may read it
keeps it encrypted in its replica (``sync/personal.py``). The name and employee number are not
personal fields: every role that reads the ``hr`` module needs them to tell people apart.

Invariants:
- ``employee_no`` is unique and fixed at creation; ``site_id`` never changes (a transfer to
  another site is a new employment record, so the old site keeps its history).
- Every value written passes ``personal_data``'s checks on both sides; a refusal never repeats
  the value it refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import msgspec
from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, select

from erp.hr import errors
from erp.hr.personal_data import bank_account_problem, id_number_problem, phone_problem, salary_problem
from erp.org.site import sites
from sync.context import Edit, MutationContext
from sync.personal import personal_column
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType

VIEW_PERSONAL = "hr.view_personal"
VIEW_SALARY = "hr.view_salary"

# Column -> the permission needed to see and write it (the table's SyncSpec declares them).
PERSONAL_FIELDS = {
    "id_number": VIEW_PERSONAL,
    "phone": VIEW_PERSONAL,
    "bank_account": VIEW_PERSONAL,
    "monthly_salary": VIEW_SALARY,
}

hr_employees = Table(
    "hr_employees",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("employee_no", String(32), nullable=False, unique=True),  # 工号
    Column("name", String(100), nullable=False),  # as on the ID card, rare characters included
    personal_column("hr_employees", "id_number", String(32)),  # resident ID, passport or permit number
    personal_column("hr_employees", "phone", String(40)),
    personal_column("hr_employees", "bank_account", String(34)),  # where the salary is paid
    personal_column("hr_employees", "monthly_salary", DecimalType),  # yuan, to the fen
    Column("active", Boolean, nullable=False, default=True),  # False once the person has left
    version_column(),
    field_versions_column(),
    Index("ix_hr_employees_site_version", "site_id", "_version"),
    Index("ix_hr_employees_site_key", "site_id", "id"),  # bootstrap reads a site in key order
)


class CreateEmployee(msgspec.Struct, frozen=True):
    employee_id: str
    site_id: str
    employee_no: str
    name: str
    id_number: str | None = None
    phone: str | None = None
    bank_account: str | None = None
    monthly_salary: Decimal | None = None


class UpdateEmployee(msgspec.Struct, frozen=True):
    """Only the fields to change, each with the field version it was based on."""

    employee_id: str
    name: Edit[str] | None = None
    id_number: Edit[str | None] | None = None
    phone: Edit[str | None] | None = None
    bank_account: Edit[str | None] | None = None
    monthly_salary: Edit[Decimal | None] | None = None
    active: Edit[bool] | None = None


_CHECKS: dict[str, tuple[str, Callable[[Any], str | None]]] = {
    "id_number": (errors.INVALID_ID_NUMBER, id_number_problem),
    "phone": (errors.INVALID_PHONE, phone_problem),
    "bank_account": (errors.INVALID_BANK_ACCOUNT, bank_account_problem),
    "monthly_salary": (errors.INVALID_SALARY, salary_problem),
}


def _check_name(ctx: MutationContext, name: str) -> None:
    if not name.strip():
        ctx.reject(errors.INVALID_NAME, "an employee needs a name")


def _check_personal(ctx: MutationContext, field: str, value: Any) -> None:
    if value is None:
        return
    code, problem_of = _CHECKS[field]
    problem = problem_of(value)
    if problem is not None:
        ctx.reject(code, problem, field=field)  # the value itself stays out of the rejection


@mutation("hr.create_employee", 1, CreateEmployee, personal_args=tuple(PERSONAL_FIELDS))
def create_employee(ctx: MutationContext, args: CreateEmployee) -> None:
    """Register an employee at a site."""
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.UNKNOWN_SITE, "this site does not exist", site_id=args.site_id)
    if not args.employee_no.strip() or args.employee_no != args.employee_no.strip():
        ctx.reject(errors.INVALID_EMPLOYEE_NO, "an employee number is not blank and has no surrounding spaces")
    taken = ctx.conn.execute(select(hr_employees.c.id).where(hr_employees.c.employee_no == args.employee_no)).first()
    if taken is not None:
        ctx.reject(errors.EMPLOYEE_NO_TAKEN, f"employee number {args.employee_no} is already used",
                   employee_no=args.employee_no)
    _check_name(ctx, args.name)
    for field in PERSONAL_FIELDS:
        _check_personal(ctx, field, getattr(args, field))
    ctx.insert(
        hr_employees,
        {
            "id": args.employee_id,
            "site_id": args.site_id,
            "employee_no": args.employee_no,
            "name": args.name,
            "id_number": args.id_number,
            "phone": args.phone,
            "bank_account": args.bank_account,
            "monthly_salary": args.monthly_salary,
            "active": True,
        },
    )


@mutation("hr.update_employee", 1, UpdateEmployee, personal_args=tuple(PERSONAL_FIELDS))
def update_employee(ctx: MutationContext, args: UpdateEmployee) -> None:
    """Edit an employee's name, personal data, salary or active flag, field by field."""
    if ctx.get(hr_employees, id=args.employee_id) is None:
        ctx.reject(errors.UNKNOWN_EMPLOYEE, "this employee does not exist", employee_id=args.employee_id)
    if args.name is not None:
        _check_name(ctx, args.name.value)
    for field in PERSONAL_FIELDS:
        edit = getattr(args, field)
        if edit is not None:
            _check_personal(ctx, field, edit.value)
    ctx.merge_master(hr_employees, {"id": args.employee_id}, {
        "name": args.name, "id_number": args.id_number, "phone": args.phone, "bank_account": args.bank_account,
        "monthly_salary": args.monthly_salary, "active": args.active,
    })
