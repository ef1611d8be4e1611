"""The stock valuation report: per site and item, quantity, unit cost, value and method, with totals.

Reads only the server's derived valuation tables (``stock_valuation``), never the ledger, so its
cost grows with the number of (site, item) positions, not with the number of moves.

- As of now: every position, by its item's method. For month-end weighted items the unit cost is
  the latest month's rate: ``provisional`` while that month is the current UTC month (later moves
  of the month change it), ``final`` once the month has ended.
- As of the end of a past month (``month``): month-end weighted items only, valued at that
  month's closing (a month without moves carries the previous closing forward). Moving average
  and FIFO positions are kept as of now only; rebuilding them for a past date would mean reading
  the ledger.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Literal

import msgspec
from sqlalchemy import Connection, and_, func, select

from erp.inventory.item import items
from erp.inventory.stock_valuation import item_costs, valuation_months
from erp.inventory.valuation import MonthTotals, Position, close_month, rate

RateStatus = Literal["provisional", "final"]


class ValuationLine(msgspec.Struct, frozen=True):
    site_id: str
    item_id: str
    sku: str
    name: str
    unit_code: str
    method: str
    quantity: Decimal
    unit_cost: Decimal  # 4 places: the average (FIFO: value / quantity), or the month's rate
    value: Decimal  # to the cent
    month: str | None = None  # month-end weighted: the month the rate belongs to (YYYY-MM)
    rate_status: RateStatus | None = None


class SiteTotal(msgspec.Struct, frozen=True):
    site_id: str
    items: int
    value: Decimal


class ValuationReport(msgspec.Struct, frozen=True):
    as_of: str  # "now", or the month (YYYY-MM) whose end the figures are as of
    items: list[ValuationLine]  # one line per (site, item) position, by site and SKU
    sites: list[SiteTotal]
    total_value: Decimal


def _status(month: str, today: date) -> RateStatus:
    return "final" if month < f"{today.year:04d}-{today.month:02d}" else "provisional"


def _report(as_of: str, lines: list[ValuationLine]) -> ValuationReport:
    sites: dict[str, tuple[int, Decimal]] = {}
    for line in lines:
        count, value = sites.get(line.site_id, (0, Decimal(0)))
        sites[line.site_id] = (count + 1, value + line.value)
    totals = [SiteTotal(site, count, value) for site, (count, value) in sorted(sites.items())]
    return ValuationReport(as_of, lines, totals, sum((t.value for t in totals), Decimal(0)))


def valuation_report(conn: Connection, *, site_id: str | None = None, month: str | None = None,
                     today: date | None = None) -> ValuationReport:
    """The report for one site (or all), as of now or as of the end of ``month`` (YYYY-MM)."""
    today = today or datetime.now(timezone.utc).date()
    if month is not None:
        return _as_of_month(conn, site_id, month, today)
    query = (select(item_costs, items.c.sku, items.c.name, items.c.unit_code)
             .join(items, items.c.id == item_costs.c.item_id)
             .order_by(item_costs.c.site_id, items.c.sku))
    if site_id is not None:
        query = query.where(item_costs.c.site_id == site_id)
    lines = []
    for row in conn.execute(query):
        monthly = row.method == "monthly_weighted" and row.month is not None
        if row.method == "fifo" and row.quantity > 0:
            unit_cost = rate(row.value / row.quantity)
        else:
            unit_cost = row.unit_cost
        lines.append(ValuationLine(row.site_id, row.item_id, row.sku, row.name, row.unit_code, row.method,
                                   row.quantity, unit_cost, row.value, row.month if monthly else None,
                                   _status(row.month, today) if monthly else None))
    return _report("now", lines)


def _as_of_month(conn: Connection, site_id: str | None, month: str, today: date) -> ValuationReport:
    m = valuation_months.c
    latest = select(m.site_id, m.item_id, func.max(m.month).label("month")).where(m.month <= month)
    if site_id is not None:
        latest = latest.where(m.site_id == site_id)
    latest = latest.group_by(m.site_id, m.item_id).subquery()
    query = (select(valuation_months, items.c.sku, items.c.name, items.c.unit_code)
             .join(latest, and_(latest.c.site_id == m.site_id, latest.c.item_id == m.item_id,
                                latest.c.month == m.month))
             .join(items, items.c.id == m.item_id)
             .order_by(m.site_id, items.c.sku))
    lines = []
    for row in conn.execute(query):
        opening = Position(row.opening_quantity, row.opening_value, row.opening_unit_cost)
        closing = close_month(opening, MonthTotals(row.incoming_quantity, row.incoming_value,
                                                   row.outgoing_quantity)).closing
        lines.append(ValuationLine(row.site_id, row.item_id, row.sku, row.name, row.unit_code, "monthly_weighted",
                                   closing.quantity, closing.unit_cost, closing.value, month,
                                   _status(month, today)))
    return _report(month, lines)
