"""The MRP service: read a site's planning data from the database, run the pure calculator
(``mrp.run_mrp``) on it, and store the proposals it makes.

What a run reads, for one site:

- **items**: every item with planning parameters at the site (``item_planning``), every item
  demanded or on order, and everything below them in their BOMs; an item without parameters
  is made if it has a released BOM, bought otherwise (lead time 0, no safety stock, lot-for-lot);
- **BOMs**: each made item's effective BOM (its released version with the highest number),
  exploded through its phantom lines exactly as a work order explodes it
  (``bom_explosion.explode``), so a proposal needs what the order made from it will need;
- **demand**: open sales-order lines (confirmed or partially delivered: ordered less
  delivered), forecasts (``demand_forecasts``), and the unissued material of open work orders
  (planned, released, in progress), needed on the order's start date (its due date less its
  item's lead time); plus each item's safety stock;
- **supply**: on-hand stock of the site's locations, open purchase-order lines (draft, approved
  or partially received: ordered less net received, expected on the order's date) and open
  work orders (planned less completed, on their due date);
- **calendars**: the plant calendar given to the run (Monday to Friday if none) and the
  calendars of the work centres named in the parameters.

The run is **regenerative**: storing it discards the site's proposals still open from earlier
runs, and proposes afresh (``planned_order.py``). Converted proposals stay with their
documents, which the run already counts as supply.

The tables are HQ planning data, server-only, written with plain SQL on the caller's
connection, in one transaction: a run is stored whole or not at all.

Invariants: demand and receipt ids name their source row (``sales_order_line:<id>``,
``forecast:<id>``, ``work_order_material:<order>/<line>``, ``purchase_order_line:<id>``,
``work_order:<id>``); a stored planned order's pegs are the calculator's, with parent planned
orders renamed to their stored ids.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Column, Connection, ForeignKey, Index, Integer, String, Table, insert, select

from erp.inventory.on_hand import on_hand
from erp.manufacturing import errors
from erp.manufacturing.bom import effective_bom, explosion_lines
from erp.manufacturing.bom_explosion import explode
from erp.manufacturing.calendars import calendar_from_row, working_calendars
from erp.manufacturing.checks import ceil_9
from erp.manufacturing.demand_forecast import demand_forecasts
from erp.manufacturing.item_planning import ItemPlanning, check_planning_date, planning_of_site, require_known
from erp.manufacturing.mrp import MrpResult, PlannedOrderKind, run_mrp
from erp.manufacturing.planned_order import discard_proposals, planned_order_pegs, planned_orders
from erp.manufacturing.planning_data import (
    BomLine, Demand, DemandKind, Item, MrpInput, OnHand, Procurement, ReceiptKind, ScheduledReceipt, WorkCentre,
)
from erp.manufacturing.pegging import PegSource
from erp.manufacturing.work_centre import work_centres
from erp.manufacturing.work_order import wo_materials, work_orders
from erp.manufacturing.working_calendar import WorkingCalendar
from erp.purchasing.purchase_order import purchase_order_lines, purchase_orders
from erp.sales.sales_order import sales_order_lines, sales_orders
from sync.errors import NotFound
from sync.ids import new_id
from sync.schema import ID, metadata
from sync.types import UtcDateTime

mrp_runs = Table(
    "mrp_runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("run_date", String(10), nullable=False),  # ISO date: nothing is planned before it
    Column("calendar_id", ID, ForeignKey("working_calendars.id")),  # the plant calendar; None: Monday–Friday
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("run_by", String(120)),
    Column("items", Integer, nullable=False),  # items in the run
    Column("demand_lines", Integer, nullable=False),
    Column("purchase_proposals", Integer, nullable=False),
    Column("make_proposals", Integer, nullable=False),
    Column("past_due", Integer, nullable=False),  # proposals whose release date was before the run date
    Column("discarded", Integer, nullable=False),  # open proposals of earlier runs this run replaced
    Index("ix_mrp_runs_site_started", "site_id", "started_at"),
)

OPEN_SALES = ("confirmed", "partially_delivered")
OPEN_PURCHASES = ("draft", "approved", "partially_received")
OPEN_WORK_ORDERS = ("planned", "released", "in_progress")
PLANT = WorkingCalendar("plant")  # Monday to Friday, no holidays: a site without a calendar of its own


class MrpRunSummary(msgspec.Struct, frozen=True):
    id: str
    site_id: str
    run_date: date
    calendar_id: str | None
    started_at: datetime
    finished_at: datetime
    run_by: str | None
    items: int
    demand_lines: int
    purchase_proposals: int
    make_proposals: int
    past_due: int
    discarded: int


def summary_from_row(row: Any) -> MrpRunSummary:
    values = {name: row[name] for name in MrpRunSummary.__struct_fields__}
    return MrpRunSummary(**{**values, "run_date": date.fromisoformat(row["run_date"])})


def run_site(conn: Connection, site_id: str, run_date: date, *, user: str | None,
             calendar_id: str | None = None) -> MrpRunSummary:
    """Plan the site and store the result (replacing its open proposals); the run's summary."""
    check_planning_date(run_date, errors.INVALID_PLANNING_PARAMETERS, "run_date")
    require_known(conn, errors.UNKNOWN_SITE, site_id=site_id)
    started_at = datetime.now(timezone.utc)
    data = gather(conn, site_id, run_date, calendar_id)
    result = run_mrp(data)
    return store(conn, site_id, data, result, started_at=started_at, user=user, calendar_id=calendar_id)


# -- reading the input -------------------------------------------------------------------------


def gather(conn: Connection, site_id: str, run_date: date, calendar_id: str | None = None) -> MrpInput:
    """The calculator's input for a site, read in a handful of queries."""
    params = planning_of_site(conn, site_id)
    plant = PLANT
    if calendar_id is not None:
        plant = calendar_from_row(_one(conn, working_calendars, calendar_id))
    demands = _sales_demand(conn, site_id, run_date) + _forecast_demand(conn, site_id)
    receipts = _purchase_receipts(conn, site_id, run_date)
    open_orders = list(conn.execute(
        select(work_orders.c.id, work_orders.c.item_id, work_orders.c.quantity, work_orders.c.completed_quantity,
               work_orders.c.due_date)
        .where(work_orders.c.site_id == site_id, work_orders.c.status.in_(OPEN_WORK_ORDERS))).mappings())
    for order in open_orders:
        open_quantity = order["quantity"] - order["completed_quantity"]
        if open_quantity > 0:
            receipts.append(ScheduledReceipt(f"work_order:{order['id']}", order["item_id"], ReceiptKind.WORK_ORDER,
                                             open_quantity, date.fromisoformat(order["due_date"])))

    wanted = set(params) | {d.item_id for d in demands} | {r.item_id for r in receipts}
    material = _open_material(conn, site_id)
    wanted |= {row["item_id"] for row in material}
    items, bom = _items_and_boms(conn, wanted, params)
    centres = _work_centres(conn, {i.work_centre_id for i in items.values() if i.work_centre_id})
    calendars = {c.work_centre_id: c.calendar for c in centres}

    due_of_order = {order["id"]: date.fromisoformat(order["due_date"]) for order in open_orders}
    item_of_order = {order["id"]: order["item_id"] for order in open_orders}
    for row in material:
        made = items.get(item_of_order[row["work_order_id"]])
        start = due_of_order[row["work_order_id"]]
        if made is not None and made.lead_time_days:
            start = calendars.get(made.work_centre_id, plant).subtract_working_days(start, made.lead_time_days)
        demands.append(Demand(f"work_order_material:{row['work_order_id']}/{row['line_no']}", row["item_id"],
                              DemandKind.WORK_ORDER_COMPONENT, row["open"], start))

    # Summed in Python: SQLite keeps Decimals as text, whose SQL arithmetic goes through floats.
    stock: dict[str, Decimal] = {}
    for item_id, quantity in conn.execute(select(on_hand.c.item_id, on_hand.c.quantity)
                                          .where(on_hand.c.site_id == site_id)):
        if item_id in items:
            stock[item_id] = stock.get(item_id, Decimal(0)) + quantity
    return MrpInput(
        run_date=run_date, plant_calendar=plant, items=tuple(items.values()), bom_lines=tuple(bom),
        demands=tuple(demands), scheduled_receipts=tuple(receipts), work_centres=tuple(centres),
        on_hand=tuple(OnHand(item_id, quantity) for item_id, quantity in sorted(stock.items()) if quantity),
    )


def _one(conn: Connection, table: Table, row_id: str) -> Any:
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    if row is None:
        raise NotFound(f"{table.name}: {row_id} does not exist", id=row_id)
    return row


def _day(moment: datetime | None, default: date) -> date:
    return moment.astimezone(timezone.utc).date() if moment is not None else default


def _sales_demand(conn: Connection, site_id: str, run_date: date) -> list[Demand]:
    rows = conn.execute(
        select(sales_order_lines.c.id, sales_order_lines.c.item_id, sales_order_lines.c.quantity,
               sales_order_lines.c.delivered_quantity, sales_orders.c.requested_at)
        .join(sales_orders, sales_orders.c.id == sales_order_lines.c.order_id)
        .where(sales_orders.c.site_id == site_id, sales_orders.c.status.in_(OPEN_SALES))).mappings()
    return [Demand(f"sales_order_line:{r['id']}", r["item_id"], DemandKind.SALES_ORDER,
                   r["quantity"] - r["delivered_quantity"], _day(r["requested_at"], run_date))
            for r in rows if r["quantity"] > r["delivered_quantity"]]


def _forecast_demand(conn: Connection, site_id: str) -> list[Demand]:
    rows = conn.execute(select(demand_forecasts).where(demand_forecasts.c.site_id == site_id)).mappings()
    return [Demand(f"forecast:{r['id']}", r["item_id"], DemandKind.FORECAST, r["quantity"],
                   date.fromisoformat(r["due_date"])) for r in rows]


def _purchase_receipts(conn: Connection, site_id: str, run_date: date) -> list[ScheduledReceipt]:
    rows = conn.execute(
        select(purchase_order_lines.c.id, purchase_order_lines.c.item_id, purchase_order_lines.c.quantity,
               purchase_order_lines.c.received_quantity, purchase_order_lines.c.returned_quantity,
               purchase_orders.c.expected_at)
        .join(purchase_orders, purchase_orders.c.id == purchase_order_lines.c.po_id)
        .where(purchase_orders.c.site_id == site_id, purchase_orders.c.status.in_(OPEN_PURCHASES))).mappings()
    found = []
    for r in rows:
        open_quantity = r["quantity"] - (r["received_quantity"] - r["returned_quantity"])
        if open_quantity > 0:
            found.append(ScheduledReceipt(f"purchase_order_line:{r['id']}", r["item_id"], ReceiptKind.PURCHASE_ORDER,
                                          open_quantity, _day(r["expected_at"], run_date)))
    return found


def _open_material(conn: Connection, site_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(wo_materials.c.work_order_id, wo_materials.c.line_no, wo_materials.c.item_id,
               wo_materials.c.required_quantity, wo_materials.c.issued_quantity)
        .join(work_orders, work_orders.c.id == wo_materials.c.work_order_id)
        .where(work_orders.c.site_id == site_id, work_orders.c.status.in_(OPEN_WORK_ORDERS))).mappings()
    return [{**r, "open": r["required_quantity"] - r["issued_quantity"]}
            for r in rows if r["required_quantity"] > r["issued_quantity"]]


def _items_and_boms(conn: Connection, wanted: set[str],
                    params: dict[str, ItemPlanning]) -> tuple[dict[str, Item], list[BomLine]]:
    """Every wanted item and everything below it, with the BOM lines of the made ones."""
    items: dict[str, Item] = {}
    lines: list[BomLine] = []
    waiting = sorted(wanted)
    while waiting:
        item_id = waiting.pop()
        if item_id in items:
            continue
        bom = effective_bom(conn, item_id)
        param = params.get(item_id)
        procurement = Procurement(param.procurement) if param else Procurement.MAKE if bom else Procurement.BUY
        items[item_id] = Item(item_id, procurement) if param is None else Item(
            item_id, procurement, param.lead_time_days, param.safety_stock, param.lot_sizing(),
            param.work_centre_id if procurement is Procurement.MAKE else None)
        if procurement is not Procurement.MAKE or bom is None:
            continue
        top = explosion_lines(conn, bom["id"])
        per_item: dict[str, Decimal] = {}
        for requirement in explode(item_id, top, _phantom_boms(conn, top)):
            before = per_item.get(requirement.item_id, Decimal(0))
            per_item[requirement.item_id] = before + requirement.gross_quantity_per
        for component, quantity in sorted(per_item.items()):
            lines.append(BomLine(item_id, component, ceil_9(quantity)))
            waiting.append(component)
    return items, lines


def _phantom_boms(conn: Connection, lines: list) -> dict[str, list]:
    found: dict[str, list] = {}
    waiting = [line.component_id for line in lines if line.phantom]
    while waiting:
        item_id = waiting.pop()
        if item_id in found:
            continue
        bom = effective_bom(conn, item_id)
        found[item_id] = explosion_lines(conn, bom["id"]) if bom is not None else []
        waiting.extend(line.component_id for line in found[item_id] if line.phantom)
    return found


def _work_centres(conn: Connection, ids: set[str]) -> list[WorkCentre]:
    if not ids:
        return []
    rows = conn.execute(select(work_centres.c.id.label("work_centre_id"), working_calendars)
                        .join(working_calendars, working_calendars.c.id == work_centres.c.calendar_id)
                        .where(work_centres.c.id.in_(sorted(ids)))).mappings()
    return [WorkCentre(row["work_centre_id"], calendar_from_row(row)) for row in rows]


# -- storing the result ------------------------------------------------------------------------


def store(conn: Connection, site_id: str, data: MrpInput, result: MrpResult, *, started_at: datetime,
          user: str | None, calendar_id: str | None = None) -> MrpRunSummary:
    """Store a run: its row, its planned orders and their pegs, replacing the open proposals."""
    run_id = new_id()
    discarded = discard_proposals(conn, site_id, user=user)
    stored_id = {order.order_id: new_id() for order in result.planned_orders}
    orders, pegs = [], []
    for order in result.planned_orders:
        planned_order_id = stored_id[order.order_id]
        orders.append({
            "id": planned_order_id, "run_id": run_id, "site_id": site_id,
            "kind": "purchase" if order.kind is PlannedOrderKind.PURCHASE_ORDER else "make",
            "item_id": order.item_id, "quantity": order.quantity, "release_date": order.release_date.isoformat(),
            "due_date": order.need_date.isoformat(), "past_due": bool(order.exceptions), "plan_ref": order.order_id,
            "status": "proposed", "converted_document_id": None, "decided_at": None, "decided_by": None,
        })
        for line_no, peg in enumerate(order.pegging, start=1):
            ref = stored_id[peg.demand_id] if peg.source is PegSource.PLANNED_ORDER else peg.demand_id
            pegs.append({"planned_order_id": planned_order_id, "line_no": line_no, "source": str(peg.source),
                         "demand_ref": ref, "quantity": peg.quantity})
    row = {
        "id": run_id, "site_id": site_id, "run_date": data.run_date.isoformat(), "calendar_id": calendar_id,
        "started_at": started_at, "finished_at": datetime.now(timezone.utc), "run_by": user,
        "items": len(data.items), "demand_lines": len(data.demands),
        "purchase_proposals": sum(1 for o in orders if o["kind"] == "purchase"),
        "make_proposals": sum(1 for o in orders if o["kind"] == "make"),
        "past_due": sum(1 for o in orders if o["past_due"]), "discarded": discarded,
    }
    conn.execute(insert(mrp_runs).values(**row))
    if orders:
        conn.execute(insert(planned_orders), orders)
    if pegs:
        conn.execute(insert(planned_order_pegs), pegs)
    return summary_from_row(row)
