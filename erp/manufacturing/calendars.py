"""Working calendars as master data: the rows HQ keeps, and the ``WorkingCalendar`` they build.

A work centre refers to one calendar (``work_centre.py``); the calculator in
``working_calendar.py`` does the date arithmetic. A calendar here is the same three facts that
class takes: working weekdays (0 = Monday … 6 = Sunday), holidays, and extra working days (the
make-up days of 调休). Calendars are shared by every site (a public-holiday calendar is the
same in every Wuhan plant) and created at HQ.

Invariants: a stored calendar always builds a valid ``WorkingCalendar`` (at least one working
weekday, no date both a holiday and a working day), checked by the same class on every write.
Dates are stored as sorted ISO 8601 text in JSON lists, so both databases hold the same text.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import Column, String, Table, Text, select

from erp.manufacturing import errors
from erp.manufacturing.checks import check_text, rejecting
from erp.manufacturing.working_calendar import MONDAY_TO_FRIDAY, WorkingCalendar
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column

working_calendars = Table(
    "working_calendars",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("working_weekdays", String(13), nullable=False),  # "0,1,2,3,4": Monday to Friday
    Column("holidays", Text, nullable=False),  # JSON list of ISO dates, sorted
    Column("extra_working_days", Text, nullable=False),  # JSON list of ISO dates, sorted (调休)
    version_column(),
    field_versions_column(),
)


def weekdays_text(weekdays: list[int] | frozenset[int]) -> str:
    return ",".join(str(day) for day in sorted(set(weekdays)))


def dates_text(days: list[date] | frozenset[date]) -> str:
    return json.dumps(sorted({day.isoformat() for day in days}))


def calendar_from_row(row: Any) -> WorkingCalendar:
    """The calculator's calendar for a stored row."""
    return WorkingCalendar(
        row["id"],
        frozenset(int(day) for day in row["working_weekdays"].split(",") if day),
        frozenset(date.fromisoformat(day) for day in json.loads(row["holidays"])),
        frozenset(date.fromisoformat(day) for day in json.loads(row["extra_working_days"])),
    )


class CreateWorkingCalendar(msgspec.Struct, frozen=True):
    calendar_id: str
    code: str
    name: str
    working_weekdays: list[int] = msgspec.field(default_factory=lambda: sorted(MONDAY_TO_FRIDAY))
    holidays: list[date] = msgspec.field(default_factory=list)
    extra_working_days: list[date] = msgspec.field(default_factory=list)


class UpdateWorkingCalendar(msgspec.Struct, frozen=True):
    """Only the fields to change, each with the field version it was based on."""

    calendar_id: str
    name: Edit[str] | None = None
    working_weekdays: Edit[list[int]] | None = None
    holidays: Edit[list[date]] | None = None
    extra_working_days: Edit[list[date]] | None = None


@mutation("manufacturing.create_working_calendar", 1, CreateWorkingCalendar)
def create_working_calendar(ctx: MutationContext, args: CreateWorkingCalendar) -> None:
    """Register a working calendar (HQ only)."""
    check_text(ctx, args.code, "code")
    if ctx.conn.execute(select(working_calendars.c.id).where(working_calendars.c.code == args.code)).first():
        ctx.reject(errors.CODE_TAKEN, f"calendar {args.code} already exists", calendar_code=args.code)
    rejecting(ctx, lambda: WorkingCalendar(args.calendar_id, frozenset(args.working_weekdays),
                                           frozenset(args.holidays), frozenset(args.extra_working_days)))
    ctx.insert(working_calendars, {
        "id": args.calendar_id, "code": args.code, "name": args.name,
        "working_weekdays": weekdays_text(args.working_weekdays), "holidays": dates_text(args.holidays),
        "extra_working_days": dates_text(args.extra_working_days),
    })


@mutation("manufacturing.update_working_calendar", 1, UpdateWorkingCalendar)
def update_working_calendar(ctx: MutationContext, args: UpdateWorkingCalendar) -> None:
    """Rename a calendar or change its working weekdays, holidays or make-up days."""
    current = ctx.get(working_calendars, id=args.calendar_id)
    if current is None:
        ctx.reject(errors.UNKNOWN_CALENDAR, "this calendar does not exist", calendar_id=args.calendar_id)
    edits: dict[str, Edit[Any] | None] = {"name": args.name}
    for name, edit, as_text in (("working_weekdays", args.working_weekdays, weekdays_text),
                                ("holidays", args.holidays, dates_text),
                                ("extra_working_days", args.extra_working_days, dates_text)):
        edits[name] = None if edit is None else Edit(as_text(edit.value), edit.base_version)
    ctx.merge_master(working_calendars, {"id": args.calendar_id}, edits)
    # Checked on the merged row: a field HQ changed meanwhile may have kept its value.
    rejecting(ctx, lambda: calendar_from_row(ctx.get(working_calendars, id=args.calendar_id)))
