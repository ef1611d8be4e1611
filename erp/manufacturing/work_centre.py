"""Work centres: the machines, lines or teams of a site where operations run, and what an hour
of them costs.

A work centre belongs to one site (scope ``site``) and refers to a working calendar
(``calendars.py``): the days it works. ``capacity_hours_per_day`` is what it can do on a working
day; the labour and overhead rates are yuan per hour of reported run time, used by work-order
costing (``costing.py``). Work centres are created at HQ; rates and capacity are edited field by
field (policy: server wins, as for every master table).

Invariants: ``code`` is unique within the site; capacity, labour rate and overhead rate are
finite Decimals ≥ 0 with at most 9 decimals; the calendar exists.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, UniqueConstraint, select

from erp.manufacturing import errors
from erp.manufacturing.calendars import working_calendars
from erp.manufacturing.checks import check_amount, check_text
from erp.org.site import sites
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType

work_centres = Table(
    "work_centres",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("calendar_id", ID, ForeignKey("working_calendars.id"), nullable=False),
    Column("capacity_hours_per_day", DecimalType, nullable=False),  # on a working day of its calendar
    Column("labour_rate", DecimalType, nullable=False),  # yuan per reported run hour
    Column("overhead_rate", DecimalType, nullable=False),  # yuan per reported run hour
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("site_id", "code"),
    version_column(),
    field_versions_column(),
    Index("ix_work_centres_site_version", "site_id", "_version"),
)

_AMOUNTS = ("capacity_hours_per_day", "labour_rate", "overhead_rate")


class CreateWorkCentre(msgspec.Struct, frozen=True):
    work_centre_id: str
    site_id: str
    code: str
    name: str
    calendar_id: str
    capacity_hours_per_day: Decimal
    labour_rate: Decimal = Decimal(0)
    overhead_rate: Decimal = Decimal(0)


class UpdateWorkCentre(msgspec.Struct, frozen=True):
    """Only the fields to change, each with the field version it was based on."""

    work_centre_id: str
    name: Edit[str] | None = None
    calendar_id: Edit[str] | None = None
    capacity_hours_per_day: Edit[Decimal] | None = None
    labour_rate: Edit[Decimal] | None = None
    overhead_rate: Edit[Decimal] | None = None
    active: Edit[bool] | None = None


def _require_calendar(ctx: MutationContext, calendar_id: str) -> None:
    if ctx.get(working_calendars, id=calendar_id) is None:
        ctx.reject(errors.UNKNOWN_CALENDAR, "this calendar does not exist", calendar_id=calendar_id)


@mutation("manufacturing.create_work_centre", 1, CreateWorkCentre)
def create_work_centre(ctx: MutationContext, args: CreateWorkCentre) -> None:
    """Register a work centre at a site (HQ only)."""
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.UNKNOWN_SITE, "this site does not exist", site_id=args.site_id)
    check_text(ctx, args.code, "code")
    taken = ctx.conn.execute(select(work_centres.c.id).where(
        work_centres.c.site_id == args.site_id, work_centres.c.code == args.code)).first()
    if taken is not None:
        ctx.reject(errors.CODE_TAKEN, f"work centre {args.code} already exists at this site",
                   work_centre_code=args.code)
    _require_calendar(ctx, args.calendar_id)
    for name in _AMOUNTS:
        check_amount(ctx, getattr(args, name), name)
    ctx.insert(work_centres, {
        "id": args.work_centre_id, "site_id": args.site_id, "code": args.code, "name": args.name,
        "calendar_id": args.calendar_id, "capacity_hours_per_day": args.capacity_hours_per_day,
        "labour_rate": args.labour_rate, "overhead_rate": args.overhead_rate, "active": True,
    })


@mutation("manufacturing.update_work_centre", 1, UpdateWorkCentre)
def update_work_centre(ctx: MutationContext, args: UpdateWorkCentre) -> None:
    """Rename a work centre, change its calendar, capacity or rates, or retire it."""
    if ctx.get(work_centres, id=args.work_centre_id) is None:
        ctx.reject(errors.UNKNOWN_WORK_CENTRE, "this work centre does not exist", work_centre_id=args.work_centre_id)
    if args.calendar_id is not None:
        _require_calendar(ctx, args.calendar_id.value)
    for name in _AMOUNTS:
        edit = getattr(args, name)
        if edit is not None:
            check_amount(ctx, edit.value, name)
    ctx.merge_master(work_centres, {"id": args.work_centre_id}, {
        "name": args.name, "calendar_id": args.calendar_id, "capacity_hours_per_day": args.capacity_hours_per_day,
        "labour_rate": args.labour_rate, "overhead_rate": args.overhead_rate, "active": args.active,
    })
