"""Read models of the manufacturing module for the HQ API: plain functions over a Connection.

They return msgspec structs, so the HTTP layer only serializes. Sums of stored decimals are
taken in Python, not SQL: SQLite keeps them as exact text, which its SUM would turn into floats.
Lists of work orders are paginated by keyset (``after`` = last id seen).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from erp.inventory.queries import MoveView
from erp.inventory.stock_move import stock_moves
from erp.manufacturing.bom import bom_lines, boms
from erp.manufacturing.calendars import working_calendars
from erp.manufacturing.costing import MaterialUse, OperationTime, WorkOrderCost, work_order_cost
from erp.manufacturing.material_issue import WORK_ORDER_MOVE_KINDS
from erp.manufacturing.operation_report import wo_operation_reports
from erp.manufacturing.routing import routing_operations, routings
from erp.manufacturing.standard_cost import item_standard_costs
from erp.manufacturing.work_centre import work_centres
from erp.manufacturing.work_order import wo_materials, wo_operations, work_orders
from erp.manufacturing.work_order_exception import wo_exceptions

ZERO = Decimal(0)


def _versions(row: Any) -> dict[str, int]:
    return json.loads(row._fv or "{}")


# -- master data -----------------------------------------------------------------------------


class CalendarView(msgspec.Struct):
    id: str
    code: str
    name: str
    working_weekdays: list[int]  # 0 = Monday … 6 = Sunday
    holidays: list[str]  # ISO dates
    extra_working_days: list[str]  # ISO dates (调休)
    field_versions: dict[str, int]


class StandardCostView(msgspec.Struct):
    item_id: str
    standard_cost: Decimal
    field_versions: dict[str, int]


class BomLineView(msgspec.Struct):
    id: str
    line_no: int
    component_item_id: str
    quantity_per: Decimal
    scrap_factor: Decimal
    phantom: bool
    backflush: bool
    field_versions: dict[str, int]


class BomView(msgspec.Struct):
    id: str
    item_id: str
    version: int
    status: str
    note: str | None
    created_at: datetime
    released_at: datetime | None
    released_by: str | None
    lines: list[BomLineView]


class WorkCentreView(msgspec.Struct):
    id: str
    site_id: str
    code: str
    name: str
    calendar_id: str
    capacity_hours_per_day: Decimal
    labour_rate: Decimal
    overhead_rate: Decimal
    active: bool
    field_versions: dict[str, int]


class RoutingOperationView(msgspec.Struct):
    id: str
    sequence: int
    name: str
    work_centre_id: str
    setup_hours: Decimal
    run_hours_per_unit: Decimal


class RoutingView(msgspec.Struct):
    id: str
    site_id: str
    item_id: str
    code: str
    name: str
    active: bool
    operations: list[RoutingOperationView]
    field_versions: dict[str, int]


def _calendar(r: Any) -> CalendarView:
    return CalendarView(r.id, r.code, r.name, [int(d) for d in r.working_weekdays.split(",") if d],
                        json.loads(r.holidays), json.loads(r.extra_working_days), _versions(r))


def list_calendars(conn: Connection) -> list[CalendarView]:
    return [_calendar(r) for r in conn.execute(select(working_calendars).order_by(working_calendars.c.code))]


def get_calendar(conn: Connection, calendar_id: str) -> CalendarView | None:
    row = conn.execute(select(working_calendars).where(working_calendars.c.id == calendar_id)).first()
    return _calendar(row) if row is not None else None


def list_standard_costs(conn: Connection, *, item_id: str | None = None) -> list[StandardCostView]:
    query = select(item_standard_costs).order_by(item_standard_costs.c.item_id)
    if item_id:
        query = query.where(item_standard_costs.c.item_id == item_id)
    return [StandardCostView(r.item_id, r.standard_cost, _versions(r)) for r in conn.execute(query)]


def _bom_lines(conn: Connection, bom_ids: list[str]) -> dict[str, list[BomLineView]]:
    lines: dict[str, list[BomLineView]] = defaultdict(list)
    if bom_ids:
        query = select(bom_lines).where(bom_lines.c.bom_id.in_(bom_ids)).order_by(bom_lines.c.bom_id,
                                                                                   bom_lines.c.line_no)
        for r in conn.execute(query):
            lines[r.bom_id].append(BomLineView(r.id, r.line_no, r.component_item_id, r.quantity_per, r.scrap_factor,
                                               bool(r.phantom), bool(r.backflush), _versions(r)))
    return lines


def list_boms(conn: Connection, *, item_id: str | None, status: str | None) -> list[BomView]:
    query = select(boms).order_by(boms.c.item_id, boms.c.version)
    if item_id:
        query = query.where(boms.c.item_id == item_id)
    if status:
        query = query.where(boms.c.status == status)
    rows = conn.execute(query).all()
    lines = _bom_lines(conn, [r.id for r in rows])
    return [BomView(r.id, r.item_id, r.version, r.status, r.note, r.created_at, r.released_at, r.released_by,
                    lines.get(r.id, [])) for r in rows]


def get_bom(conn: Connection, bom_id: str) -> BomView | None:
    r = conn.execute(select(boms).where(boms.c.id == bom_id)).first()
    if r is None:
        return None
    return BomView(r.id, r.item_id, r.version, r.status, r.note, r.created_at, r.released_at, r.released_by,
                   _bom_lines(conn, [r.id]).get(r.id, []))


def _work_centre(r: Any) -> WorkCentreView:
    return WorkCentreView(r.id, r.site_id, r.code, r.name, r.calendar_id, r.capacity_hours_per_day, r.labour_rate,
                          r.overhead_rate, bool(r.active), _versions(r))


def list_work_centres(conn: Connection, *, site_id: str | None) -> list[WorkCentreView]:
    query = select(work_centres).order_by(work_centres.c.site_id, work_centres.c.code)
    if site_id:
        query = query.where(work_centres.c.site_id == site_id)
    return [_work_centre(r) for r in conn.execute(query)]


def get_work_centre(conn: Connection, work_centre_id: str) -> WorkCentreView | None:
    row = conn.execute(select(work_centres).where(work_centres.c.id == work_centre_id)).first()
    return _work_centre(row) if row is not None else None


def _routings(conn: Connection, query: Any) -> list[RoutingView]:
    rows = conn.execute(query).all()
    operations: dict[str, list[RoutingOperationView]] = defaultdict(list)
    if rows:
        ops = select(routing_operations).where(routing_operations.c.routing_id.in_([r.id for r in rows]))
        for o in conn.execute(ops.order_by(routing_operations.c.routing_id, routing_operations.c.sequence)):
            operations[o.routing_id].append(RoutingOperationView(o.id, o.sequence, o.name, o.work_centre_id,
                                                                 o.setup_hours, o.run_hours_per_unit))
    return [RoutingView(r.id, r.site_id, r.item_id, r.code, r.name, bool(r.active), operations.get(r.id, []),
                        _versions(r)) for r in rows]


def list_routings(conn: Connection, *, site_id: str | None, item_id: str | None) -> list[RoutingView]:
    query = select(routings).order_by(routings.c.site_id, routings.c.code)
    if site_id:
        query = query.where(routings.c.site_id == site_id)
    if item_id:
        query = query.where(routings.c.item_id == item_id)
    return _routings(conn, query)


def get_routing(conn: Connection, routing_id: str) -> RoutingView | None:
    found = _routings(conn, select(routings).where(routings.c.id == routing_id))
    return found[0] if found else None


# -- work orders -----------------------------------------------------------------------------


class WorkOrderView(msgspec.Struct):
    id: str
    site_id: str
    number: str
    item_id: str
    bom_id: str
    routing_id: str | None
    quantity: Decimal
    completed_quantity: Decimal
    due_date: str
    status: str
    issue_location_id: str
    receipt_location_id: str
    note: str | None
    created_at: datetime
    created_by: str | None
    released_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None


class WorkOrderPage(msgspec.Struct):
    items: list[WorkOrderView]
    next_after: str | None  # pass as ``after`` for the next page; None on the last page


class MaterialView(msgspec.Struct):
    line_no: int
    item_id: str
    backflush: bool
    quantity_per: Decimal
    gross_quantity_per: Decimal
    required_quantity: Decimal
    issued_quantity: Decimal


class OperationView(msgspec.Struct):
    sequence: int
    name: str
    work_centre_id: str
    setup_hours: Decimal
    run_hours_per_unit: Decimal
    status: str
    good_quantity: Decimal
    scrap_quantity: Decimal
    worked_hours: Decimal
    last_report_at: datetime | None


class ReportView(msgspec.Struct):
    id: str
    operation_seq: int
    event: str
    good_quantity: Decimal
    scrap_quantity: Decimal
    operator: str
    occurred_at: datetime
    reverses_id: str | None
    note: str | None
    device_id: str | None
    seq: int | None
    user_name: str | None


class WorkOrderExceptionView(msgspec.Struct):
    id: str
    site_id: str
    work_order_id: str
    kind: str
    order_status: str
    involved: list[dict]
    status: str
    raised_at: datetime
    review_note: str | None


class WorkOrderDetail(msgspec.Struct):
    work_order: WorkOrderView
    materials: list[MaterialView]
    operations: list[OperationView]
    reports: list[ReportView]  # oldest first
    moves: list[MoveView]  # the stock moves made for it, oldest first
    cost: WorkOrderCost
    exceptions: list[WorkOrderExceptionView]


def _work_order(r: Any) -> WorkOrderView:
    return WorkOrderView(r.id, r.site_id, r.number, r.item_id, r.bom_id, r.routing_id, r.quantity,
                         r.completed_quantity, r.due_date, r.status, r.issue_location_id, r.receipt_location_id,
                         r.note, r.created_at, r.created_by, r.released_at, r.completed_at, r.closed_at)


def list_work_orders(conn: Connection, *, site_id: str | None, status: str | None, item_id: str | None,
                     due_before: str | None, limit: int, after: str | None) -> WorkOrderPage:
    query = select(work_orders).order_by(work_orders.c.id).limit(limit + 1)
    for column, value in ((work_orders.c.site_id, site_id), (work_orders.c.status, status),
                          (work_orders.c.item_id, item_id)):
        if value is not None:
            query = query.where(column == value)
    if due_before is not None:
        query = query.where(work_orders.c.due_date < due_before)
    if after:
        query = query.where(work_orders.c.id > after)
    rows = conn.execute(query).all()
    page = [_work_order(r) for r in rows[:limit]]
    return WorkOrderPage(items=page, next_after=page[-1].id if len(rows) > limit else None)


def find_work_order(conn: Connection, text: str) -> Any:
    """A work order row by id or number."""
    return conn.execute(select(work_orders).where((work_orders.c.id == text) | (work_orders.c.number == text))).first()


def get_work_order(conn: Connection, work_order_id: str) -> WorkOrderView | None:
    row = conn.execute(select(work_orders).where(work_orders.c.id == work_order_id)).first()
    return _work_order(row) if row is not None else None


def work_order_detail(conn: Connection, work_order_id: str) -> WorkOrderDetail | None:
    row = conn.execute(select(work_orders).where(work_orders.c.id == work_order_id)).first()
    if row is None:
        return None
    materials = [MaterialView(m.line_no, m.item_id, bool(m.backflush), m.quantity_per, m.gross_quantity_per,
                              m.required_quantity, m.issued_quantity)
                 for m in conn.execute(select(wo_materials).where(wo_materials.c.work_order_id == work_order_id)
                                       .order_by(wo_materials.c.line_no))]
    operations = [OperationView(o.sequence, o.name, o.work_centre_id, o.setup_hours, o.run_hours_per_unit, o.status,
                                o.good_quantity, o.scrap_quantity, o.worked_hours, o.last_report_at)
                  for o in conn.execute(select(wo_operations).where(wo_operations.c.work_order_id == work_order_id)
                                        .order_by(wo_operations.c.sequence))]
    reports = [ReportView(r.id, r.operation_seq, r.event, r.good_quantity, r.scrap_quantity, r.operator, r.occurred_at,
                          r.reverses_id, r.note, r.device_id, r.seq, r.user_name)
               for r in conn.execute(select(wo_operation_reports)
                                     .where(wo_operation_reports.c.work_order_id == work_order_id)
                                     .order_by(wo_operation_reports.c.occurred_at, wo_operation_reports.c.id))]
    moves = [MoveView(m.id, m.site_id, m.kind, m.item_id, m.location_id, m.quantity, m.occurred_at, m.reference,
                      m.document_id, m.reverses_id, m.device_id, m.seq, m.user_name, m.hlc)
             for m in conn.execute(select(stock_moves).where(stock_moves.c.document_id == work_order_id,
                                                             stock_moves.c.kind.in_(WORK_ORDER_MOVE_KINDS))
                                   .order_by(stock_moves.c.occurred_at, stock_moves.c.id))]
    return WorkOrderDetail(_work_order(row), materials, operations, reports, moves,
                           _cost(conn, row, materials), list_exceptions(conn, work_order_id=work_order_id))


def work_order_costs(conn: Connection, work_order_id: str) -> WorkOrderCost | None:
    """The order's actual cost so far (``costing.work_order_cost`` over what it recorded)."""
    row = conn.execute(select(work_orders).where(work_orders.c.id == work_order_id)).first()
    if row is None:
        return None
    materials = [MaterialView(m.line_no, m.item_id, bool(m.backflush), m.quantity_per, m.gross_quantity_per,
                              m.required_quantity, m.issued_quantity)
                 for m in conn.execute(select(wo_materials).where(wo_materials.c.work_order_id == work_order_id))]
    return _cost(conn, row, materials)


def _cost(conn: Connection, row: Any, materials: list[MaterialView]) -> WorkOrderCost:
    item_ids = sorted({m.item_id for m in materials})
    costs = {r.item_id: r.standard_cost for r in conn.execute(
        select(item_standard_costs).where(item_standard_costs.c.item_id.in_(item_ids)))} if item_ids else {}
    times = conn.execute(
        select(wo_operations.c.sequence, wo_operations.c.work_centre_id, wo_operations.c.worked_hours,
               work_centres.c.labour_rate, work_centres.c.overhead_rate)
        .join(work_centres, work_centres.c.id == wo_operations.c.work_centre_id)
        .where(wo_operations.c.work_order_id == row.id)
    ).all()
    return work_order_cost(
        [MaterialUse(m.item_id, m.issued_quantity, costs.get(m.item_id)) for m in materials],
        [OperationTime(t.sequence, t.work_centre_id, t.worked_hours, t.labour_rate, t.overhead_rate) for t in times],
        row.completed_quantity,
    )


def list_exceptions(conn: Connection, *, site_id: str | None = None, status: str | None = None,
                    work_order_id: str | None = None) -> list[WorkOrderExceptionView]:
    query = select(wo_exceptions).order_by(wo_exceptions.c.raised_at, wo_exceptions.c.id)
    for column, value in ((wo_exceptions.c.site_id, site_id), (wo_exceptions.c.status, status),
                          (wo_exceptions.c.work_order_id, work_order_id)):
        if value is not None:
            query = query.where(column == value)
    return [WorkOrderExceptionView(r.id, r.site_id, r.work_order_id, r.kind, r.order_status,
                                   json.loads(r.involved_json), r.status, r.raised_at, r.review_note)
            for r in conn.execute(query)]


# -- piece rates -----------------------------------------------------------------------------


class PieceRateLine(msgspec.Struct):
    """What one operator did on one operation of one item in the period (计件工资的依据)."""

    site_id: str
    operator: str
    item_id: str
    operation_seq: int
    operation_name: str
    work_centre_id: str
    good_quantity: Decimal
    scrap_quantity: Decimal
    reports: int  # reports with quantities or events that count (reversed ones do not)
    work_orders: int  # distinct orders they came from


def piece_rate(conn: Connection, *, site_id: str | None, since: datetime | None,
               until: datetime | None) -> list[PieceRateLine]:
    """Good and scrap quantities per operator and operation, from reports in [since, until).

    A report counts by when it happened (``occurred_at``), wherever it was recorded; a reversed
    report and its reversal count for nothing, whenever the reversal was made. Reports against
    orders cancelled or closed meanwhile count: the work was done (they are flagged for review).
    """
    report = wo_operation_reports
    reversal = aliased(wo_operation_reports)
    query = (
        select(report.c.site_id, report.c.operator, work_orders.c.item_id, report.c.operation_seq,
               wo_operations.c.name, wo_operations.c.work_centre_id, report.c.good_quantity,
               report.c.scrap_quantity, report.c.work_order_id)
        .join(work_orders, work_orders.c.id == report.c.work_order_id)
        .join(wo_operations, (wo_operations.c.work_order_id == report.c.work_order_id)
              & (wo_operations.c.sequence == report.c.operation_seq))
        .outerjoin(reversal, reversal.c.reverses_id == report.c.id)
        .where(report.c.event != "reversal", reversal.c.id.is_(None))
    )
    if site_id is not None:
        query = query.where(report.c.site_id == site_id)
    if since is not None:
        query = query.where(report.c.occurred_at >= since)
    if until is not None:
        query = query.where(report.c.occurred_at < until)
    totals: dict[tuple, list[Any]] = {}
    for r in conn.execute(query):
        key = (r.site_id, r.operator, r.item_id, r.operation_seq, r.name, r.work_centre_id)
        entry = totals.setdefault(key, [ZERO, ZERO, 0, set()])
        entry[0] += r.good_quantity
        entry[1] += r.scrap_quantity
        entry[2] += 1
        entry[3].add(r.work_order_id)
    return [PieceRateLine(*key, good, scrap, count, len(orders))
            for key, (good, scrap, count, orders) in sorted(totals.items())]
