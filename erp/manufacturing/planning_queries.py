"""Read models of planning for the HQ API: MRP runs, their planned orders with pegging, item
planning parameters, and the capacity load of a site's work centres.

``capacity`` feeds the pure calculator (``capacity.py``) with what loads the centres: open
work orders (planned, released, in progress) with what is left of their operations, and the
make proposals still open from the site's latest run, with the operations of their routing.

Invariants: reads only; a work order's window ends on its due date and starts its item's lead
time (working days on the plant calendar, Monday to Friday) before it; a proposal's window is
its release and due dates, as MRP planned it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec
from sqlalchemy import Connection, select

from erp.manufacturing import errors
from erp.manufacturing.calendars import calendar_from_row, working_calendars
from erp.manufacturing.capacity import CapacityResult, CentreCapacity, OperationLoad, OrderLoad, capacity_load
from erp.manufacturing.item_planning import ItemPlanning, item_planning, planning_of_site
from erp.manufacturing.mrp_run import PLANT, MrpRunSummary, mrp_runs, summary_from_row
from erp.manufacturing.planned_order import planned_order_pegs, planned_orders
from erp.manufacturing.routing import routing_operations, routings
from erp.manufacturing.work_centre import work_centres
from erp.manufacturing.work_order import wo_operations, work_orders
from sync.errors import NotFound

LOADING_WORK_ORDERS = ("planned", "released", "in_progress")


class PegView(msgspec.Struct):
    source: str
    demand_ref: str
    quantity: Decimal


class PlannedOrderView(msgspec.Struct):
    id: str
    run_id: str
    site_id: str
    kind: str
    item_id: str
    quantity: Decimal
    release_date: date
    due_date: date
    past_due: bool
    status: str
    converted_document_id: str | None
    decided_at: datetime | None
    decided_by: str | None
    pegging: list[PegView]


def runs(conn: Connection, site_id: str | None, limit: int = 50) -> list[MrpRunSummary]:
    query = select(mrp_runs).order_by(mrp_runs.c.started_at.desc(), mrp_runs.c.id.desc()).limit(limit)
    if site_id is not None:
        query = query.where(mrp_runs.c.site_id == site_id)
    return [summary_from_row(row) for row in conn.execute(query).mappings()]


def run(conn: Connection, run_id: str) -> MrpRunSummary:
    row = conn.execute(select(mrp_runs).where(mrp_runs.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFound("no such MRP run", code=errors.UNKNOWN_RUN, run_id=run_id)
    return summary_from_row(row)


def run_orders(conn: Connection, run_id: str, status: str | None = None) -> list[PlannedOrderView]:
    """A run's planned orders by item and due date, each with its pegging."""
    query = select(planned_orders).where(planned_orders.c.run_id == run_id)
    if status is not None:
        query = query.where(planned_orders.c.status == status)
    rows = list(conn.execute(query.order_by(planned_orders.c.item_id, planned_orders.c.due_date,
                                            planned_orders.c.plan_ref)).mappings())
    pegs: dict[str, list[PegView]] = {}
    peg_rows = conn.execute(select(planned_order_pegs).join(planned_orders)
                            .where(planned_orders.c.run_id == run_id)
                            .order_by(planned_order_pegs.c.planned_order_id, planned_order_pegs.c.line_no))
    for peg in peg_rows.mappings():
        pegs.setdefault(peg["planned_order_id"], []).append(PegView(peg["source"], peg["demand_ref"], peg["quantity"]))
    return [PlannedOrderView(
        row["id"], row["run_id"], row["site_id"], row["kind"], row["item_id"], row["quantity"],
        date.fromisoformat(row["release_date"]), date.fromisoformat(row["due_date"]), bool(row["past_due"]),
        row["status"], row["converted_document_id"], row["decided_at"], row["decided_by"], pegs.get(row["id"], []),
    ) for row in rows]


def item_parameters(conn: Connection, site_id: str) -> list[ItemPlanning]:
    return [params for _, params in sorted(planning_of_site(conn, site_id).items())]


def latest_run_id(conn: Connection, site_id: str) -> str | None:
    return conn.execute(select(mrp_runs.c.id).where(mrp_runs.c.site_id == site_id)
                        .order_by(mrp_runs.c.started_at.desc(), mrp_runs.c.id.desc()).limit(1)).scalar()


def capacity(conn: Connection, site_id: str, since: date, until: date,
             work_centre_id: str | None = None) -> CapacityResult:
    """Load per work centre per day in [since, until] from open work orders and open proposals."""
    query = (select(work_centres.c.id.label("work_centre_id"), work_centres.c.capacity_hours_per_day,
                    working_calendars)
             .join(working_calendars, working_calendars.c.id == work_centres.c.calendar_id)
             .where(work_centres.c.site_id == site_id, work_centres.c.active.is_(True)))
    if work_centre_id is not None:
        query = query.where(work_centres.c.id == work_centre_id)
    centres = tuple(CentreCapacity(row["work_centre_id"], calendar_from_row(row), row["capacity_hours_per_day"])
                    for row in conn.execute(query).mappings())
    wanted = {centre.work_centre_id for centre in centres}
    lead_times = {row.item_id: row.lead_time_days for row in conn.execute(
        select(item_planning.c.item_id, item_planning.c.lead_time_days).where(item_planning.c.site_id == site_id))}
    orders = _work_order_loads(conn, site_id, wanted, lead_times) + _proposal_loads(conn, site_id, wanted)
    return capacity_load(centres, tuple(orders), since, until)


def _work_order_loads(conn: Connection, site_id: str, wanted: set[str],
                      lead_times: dict[str, int]) -> list[OrderLoad]:
    rows = conn.execute(
        select(work_orders.c.id, work_orders.c.item_id, work_orders.c.quantity, work_orders.c.due_date,
               wo_operations.c.work_centre_id, wo_operations.c.setup_hours, wo_operations.c.run_hours_per_unit,
               wo_operations.c.status, wo_operations.c.good_quantity)
        .join(wo_operations, wo_operations.c.work_order_id == work_orders.c.id)
        .where(work_orders.c.site_id == site_id, work_orders.c.status.in_(LOADING_WORK_ORDERS))
        .order_by(work_orders.c.id, wo_operations.c.sequence)).mappings()
    by_order: dict[str, tuple[dict, list[OperationLoad]]] = {}
    for row in rows:
        if row["work_centre_id"] not in wanted or row["status"] == "finished":
            continue
        # What is left of the operation: its units still to make, and its setup if not begun.
        remaining = max(row["quantity"] - row["good_quantity"], Decimal(0))
        setup = row["setup_hours"] if row["status"] == "pending" else Decimal(0)
        operation = OperationLoad(row["work_centre_id"], setup, row["run_hours_per_unit"], remaining)
        by_order.setdefault(row["id"], (dict(row), []))[1].append(operation)
    loads = []
    for order_id, (order, operations) in by_order.items():
        due = date.fromisoformat(order["due_date"])
        start = PLANT.subtract_working_days(due, lead_times.get(order["item_id"], 0))
        loads.append(OrderLoad(order_id, "work_order", order["quantity"], start, due, tuple(operations)))
    return loads


def _proposal_loads(conn: Connection, site_id: str, wanted: set[str]) -> list[OrderLoad]:
    run_id = latest_run_id(conn, site_id)
    if run_id is None:
        return []
    proposals = list(conn.execute(select(planned_orders).where(
        planned_orders.c.run_id == run_id, planned_orders.c.kind == "make",
        planned_orders.c.status == "proposed")).mappings())
    params = planning_of_site(conn, site_id)
    operations_of: dict[str, tuple[OperationLoad, ...]] = {}  # item id -> its routing's operations
    loads = []
    for proposal in proposals:
        item_id = proposal["item_id"]
        if item_id not in operations_of:
            routing_id = _routing_of(conn, site_id, item_id, params)
            # No routing: nothing says where it will be made, so it loads no centre.
            operations_of[item_id] = () if routing_id is None else tuple(
                OperationLoad(op.work_centre_id, op.setup_hours, op.run_hours_per_unit)
                for op in conn.execute(select(routing_operations)
                                       .where(routing_operations.c.routing_id == routing_id)
                                       .order_by(routing_operations.c.sequence))
                if op.work_centre_id in wanted)
        operations = operations_of[item_id]
        if operations:
            loads.append(OrderLoad(proposal["id"], "planned_order", proposal["quantity"],
                                   date.fromisoformat(proposal["release_date"]),
                                   date.fromisoformat(proposal["due_date"]), operations))
    return loads


def _routing_of(conn: Connection, site_id: str, item_id: str, params: dict[str, ItemPlanning]) -> str | None:
    param = params.get(item_id)
    if param is not None and param.routing_id is not None:
        return param.routing_id
    return conn.execute(select(routings.c.id).where(routings.c.site_id == site_id, routings.c.item_id == item_id,
                                                    routings.c.active.is_(True))
                        .order_by(routings.c.code).limit(1)).scalar()
