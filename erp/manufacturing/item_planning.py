"""Planning parameters of an item at a site: how MRP plans it, and how a planned order for it is
turned into a real one.

Items carry no lead time, lot size, safety stock or procurement type of their own (those differ
between plants: a part bought by one site is made by another), so ``item_planning`` holds them
per site × item. An item without a row is planned with defaults: made if it has a released BOM,
bought otherwise, lead time 0, no safety stock, lot-for-lot.

The table is HQ planning data, server-only (it never replicates: no device plans), written by
``set_item_planning`` with plain SQL on the caller's connection; the HQ API records it in the
audit log.

Invariants:
- one row per (site, item); quantities are Decimals with at most 9 decimals, ≥ 0; a lead time
  is a whole number of working days ≥ 0;
- a fixed lot size is above 0 and takes no minimum or multiple (``lot_sizing.LotSizing``);
- ``procurement`` is ``buy`` or ``make`` (a phantom is a BOM line's flag, not a parameter).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Literal

import msgspec
from sqlalchemy import Column, Connection, ForeignKey, Integer, String, Table, delete, insert, select

from erp.manufacturing import errors
from erp.manufacturing.errors import InvalidLotSizing, PlanningRefused
from erp.manufacturing.lot_sizing import ZERO, LotRule, LotSizing, is_quantity
from erp.inventory.item import items
from erp.inventory.warehouse import locations
from erp.manufacturing.calendars import working_calendars
from erp.manufacturing.routing import routings
from erp.manufacturing.work_centre import work_centres
from erp.org.site import sites
from erp.purchasing.supplier import suppliers
from sync.schema import ID, metadata
from sync.types import DecimalType, UtcDateTime

item_planning = Table(
    "item_planning",
    metadata,
    Column("site_id", ID, ForeignKey("sites.id"), primary_key=True),
    Column("item_id", ID, ForeignKey("items.id"), primary_key=True),
    Column("procurement", String(8), nullable=False),  # buy | make
    Column("lead_time_days", Integer, nullable=False),  # working days from release to need date
    Column("safety_stock", DecimalType, nullable=False),
    Column("lot_rule", String(16), nullable=False),  # lot_for_lot | fixed_quantity
    Column("lot_quantity", DecimalType),  # fixed_quantity: the size of every lot
    Column("lot_minimum", DecimalType, nullable=False),  # lot_for_lot: 0 = none
    Column("lot_multiple", DecimalType, nullable=False),  # lot_for_lot: 0 = none
    # Buy: who a purchase proposal is ordered from, at what price (a draft PO; the buyer adjusts).
    Column("supplier_id", ID, ForeignKey("suppliers.id")),
    Column("unit_price", DecimalType),
    # Make: whose calendar offsets the lead time, and what a planned work order is created with.
    Column("work_centre_id", ID, ForeignKey("work_centres.id")),
    Column("routing_id", ID, ForeignKey("routings.id")),
    Column("issue_location_id", ID, ForeignKey("locations.id")),
    Column("receipt_location_id", ID, ForeignKey("locations.id")),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(120)),
)

_REFERENCED = {"site_id": sites, "calendar_id": working_calendars, "item_id": items, "supplier_id": suppliers, "work_centre_id": work_centres,
               "routing_id": routings, "issue_location_id": locations, "receipt_location_id": locations}


class ItemPlanning(msgspec.Struct, frozen=True):
    """The parameters of one item at one site, as stored and as the HQ API shows them."""

    site_id: str
    item_id: str
    procurement: Literal["buy", "make"]
    lead_time_days: int = 0
    safety_stock: Decimal = ZERO
    lot_rule: Literal["lot_for_lot", "fixed_quantity"] = "lot_for_lot"
    lot_quantity: Decimal | None = None
    lot_minimum: Decimal = ZERO
    lot_multiple: Decimal = ZERO
    supplier_id: str | None = None
    unit_price: Decimal | None = None
    work_centre_id: str | None = None
    routing_id: str | None = None
    issue_location_id: str | None = None
    receipt_location_id: str | None = None

    def lot_sizing(self) -> LotSizing:
        return LotSizing(LotRule(self.lot_rule), self.lot_quantity, self.lot_minimum, self.lot_multiple)


def check_item_planning(params: ItemPlanning) -> None:
    """Refuse parameters MRP could not plan from, before they are stored."""
    def refuse(message: str, **details: Any) -> None:
        raise PlanningRefused(message, code=errors.INVALID_PLANNING_PARAMETERS, item_id=params.item_id, **details)

    if isinstance(params.lead_time_days, bool) or not 0 <= params.lead_time_days <= MAX_LEAD_TIME_DAYS:
        refuse(f"a lead time is a whole number of working days from 0 to {MAX_LEAD_TIME_DAYS}",
               lead_time_days=params.lead_time_days)
    for name in ("safety_stock", "lot_minimum", "lot_multiple", "unit_price", "lot_quantity"):
        value = getattr(params, name)
        if value is not None and (not is_quantity(value) or value < 0):
            refuse(f"{name} must be a number 0 or more with at most 9 decimals", field=name, value=str(value))
    try:
        params.lot_sizing()
    except InvalidLotSizing as refused:
        refuse(refused.message, **refused.details)


# Plans live within these dates: lead-time offsets and capacity windows then never leave the
# calendar, and a mistyped year (0202, 20260) is refused instead of planned.
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)
MAX_LEAD_TIME_DAYS = 3650  # ten years of working days


def check_planning_date(day: date, code: str, what: str) -> None:
    if not EARLIEST <= day <= LATEST:
        raise PlanningRefused(f"{what} must be from {EARLIEST} to {LATEST}", code=code, field=what,
                              value=day.isoformat())


def require_known(conn: Connection, code: str, **ids: str | None) -> None:
    """Refuse (with ``code``) ids that name no row: sites, items, suppliers, work centres,
    routings, locations. Written with plain SQL, these tables get no mutation's checks."""
    for name, value in ids.items():
        if value is None:
            continue
        table = _REFERENCED[name]
        if conn.execute(select(table.c.id).where(table.c.id == value)).first() is None:
            raise PlanningRefused(f"{name} {value} does not exist", code=code, field=name, value=value)


def set_item_planning(conn: Connection, params: ItemPlanning, *, user: str | None) -> None:
    """Store (replace) the parameters of an item at a site."""
    check_item_planning(params)
    require_known(conn, errors.INVALID_PLANNING_PARAMETERS, site_id=params.site_id, item_id=params.item_id,
                  supplier_id=params.supplier_id, work_centre_id=params.work_centre_id, routing_id=params.routing_id,
                  issue_location_id=params.issue_location_id, receipt_location_id=params.receipt_location_id)
    values = msgspec.structs.asdict(params)
    conn.execute(delete(item_planning).where(item_planning.c.site_id == params.site_id,
                                             item_planning.c.item_id == params.item_id))
    conn.execute(insert(item_planning).values(**values, updated_at=datetime.now(timezone.utc), updated_by=user))


def planning_of_site(conn: Connection, site_id: str) -> dict[str, ItemPlanning]:
    """Item id → its parameters at the site (items without a row are not in it)."""
    fields = ItemPlanning.__struct_fields__
    rows = conn.execute(select(item_planning).where(item_planning.c.site_id == site_id)).mappings()
    return {row["item_id"]: ItemPlanning(**{name: row[name] for name in fields}) for row in rows}
