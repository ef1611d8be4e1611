"""Demand forecasts: how much of an item a site expects to need on a date, beyond its sales
orders. MRP plans for them as for sales-order lines (``DemandKind.FORECAST``).

Forecasts are taken as given: consuming forecast with actual orders is the planner's job before
a run, not the run's. The table is HQ planning data, server-only (no device plans), written
with plain SQL on the caller's connection; the HQ API records every write in the audit log.

Invariants: a forecast names a site, an item, a date and a quantity above 0 with at most 9
decimals. A forecast line is replaced or removed by the planner (it is a plan, not a fact).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import msgspec
from sqlalchemy import Column, Connection, ForeignKey, Index, String, Table, Text, delete, insert, select

from erp.manufacturing import errors
from erp.manufacturing.errors import PlanningRefused
from erp.manufacturing.item_planning import check_planning_date, require_known
from erp.manufacturing.lot_sizing import is_quantity
from sync.schema import ID, metadata
from sync.types import DecimalType, UtcDateTime

demand_forecasts = Table(
    "demand_forecasts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("due_date", String(10), nullable=False),  # ISO 8601 date: its text sorts as the date
    Column("quantity", DecimalType, nullable=False),
    Column("note", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120)),
    Index("ix_demand_forecasts_site_item", "site_id", "item_id", "due_date"),
)


class Forecast(msgspec.Struct, frozen=True):
    id: str
    site_id: str
    item_id: str
    due_date: date
    quantity: Decimal
    note: str | None = None


def record_forecast(conn: Connection, forecast: Forecast, *, user: str | None) -> None:
    """Store a forecast line; one with the same id is replaced."""
    if not is_quantity(forecast.quantity) or forecast.quantity <= 0:
        raise PlanningRefused("a forecast quantity is a number above 0 with at most 9 decimals",
                              code=errors.INVALID_FORECAST, item_id=forecast.item_id, quantity=str(forecast.quantity))
    check_planning_date(forecast.due_date, errors.INVALID_FORECAST, "due_date")
    require_known(conn, errors.INVALID_FORECAST, site_id=forecast.site_id, item_id=forecast.item_id)
    conn.execute(delete(demand_forecasts).where(demand_forecasts.c.id == forecast.id))
    conn.execute(insert(demand_forecasts).values(
        id=forecast.id, site_id=forecast.site_id, item_id=forecast.item_id, due_date=forecast.due_date.isoformat(),
        quantity=forecast.quantity, note=forecast.note, created_at=datetime.now(timezone.utc), created_by=user))


def forecasts(conn: Connection, site_id: str, *, item_id: str | None = None, since: date | None = None,
              until: date | None = None) -> list[Forecast]:
    """A site's forecasts by date and item; ``since`` and ``until`` bound the date, both inclusive."""
    query = select(demand_forecasts).where(demand_forecasts.c.site_id == site_id)
    if item_id is not None:
        query = query.where(demand_forecasts.c.item_id == item_id)
    if since is not None:
        query = query.where(demand_forecasts.c.due_date >= since.isoformat())
    if until is not None:
        query = query.where(demand_forecasts.c.due_date <= until.isoformat())
    rows = conn.execute(query.order_by(demand_forecasts.c.due_date, demand_forecasts.c.item_id,
                                       demand_forecasts.c.id)).mappings()
    return [Forecast(r["id"], r["site_id"], r["item_id"], date.fromisoformat(r["due_date"]), r["quantity"], r["note"])
            for r in rows]
