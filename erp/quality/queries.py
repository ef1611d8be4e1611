"""Read models of the quality module: plain functions over a Connection, for the HQ API and the edge.

They return msgspec structs, so the HTTP layer and the CLI only serialize. ``pending`` reads the
purchasing and manufacturing tables (receipts, work-order operations and completions) without
changing them, and runs the same on a device's replica as on the server.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Connection, select

from erp.inventory.stock_move import stock_moves
from erp.manufacturing.work_order import wo_operations, work_orders
from erp.purchasing.goods_receipt import po_receipts
from erp.purchasing.purchase_order import purchase_order_lines, purchase_orders
from erp.quality.nonconformance import nonconformances
from erp.quality.plan import inspection_plans, plan_characteristics
from erp.quality.result import inspection_results
from erp.quality.verdict import required_sample


class CharacteristicView(msgspec.Struct):
    line_no: int
    name: str
    kind: str
    nominal: Decimal | None
    lower: Decimal | None
    upper: Decimal | None
    unit: str | None


class PlanView(msgspec.Struct):
    id: str
    code: str
    version: int
    name: str
    item_id: str
    stage: str
    supplier_id: str | None
    operation_seq: int | None
    sample_kind: str
    sample_value: Decimal
    active: bool
    supersedes_id: str | None
    created_at: datetime
    created_by: str | None
    characteristics: list[CharacteristicView]


class ResultView(msgspec.Struct):
    id: str
    site_id: str
    plan_id: str
    stage: str
    item_id: str
    lot_no: str | None
    source_id: str | None
    operation_seq: int | None
    sample_size: int
    lot_quantity: Decimal | None
    verdict: str
    failed: list[str]
    measurements: list[dict]
    flags: list[str]
    supersedes_id: str | None
    note: str | None
    occurred_at: datetime
    inspector: str | None
    device_id: str | None


class PendingInspection(msgspec.Struct):
    """Something inspectable with an applicable plan and no result yet."""

    stage: str  # incoming: a receipt; in_process: a work-order operation; final: a work order's completions
    site_id: str
    plan_id: str
    plan_code: str
    item_id: str
    source_id: str  # po_receipts id, or work order id
    document: str  # the PO or work-order number people know it by
    quantity: Decimal  # received, good at the operation, or completed
    required_sample: int | None
    lot_no: str | None = None
    operation_seq: int | None = None


class NcrView(msgspec.Struct):
    id: str
    site_id: str
    result_id: str | None
    stage: str
    item_id: str
    lot_no: str | None
    source_id: str | None
    quantity: Decimal | None
    description: str
    status: str
    held: bool
    disposition: str | None
    disposition_quantity: Decimal | None
    disposition_note: str | None
    scrap_move_id: str | None
    raised_at: datetime
    raised_by: str | None
    dispositioned_at: datetime | None
    dispositioned_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    po_number: str | None = None  # incoming: the order the goods were received against
    supplier_id: str | None = None


def _plans(conn: Connection, query: Any) -> list[PlanView]:
    rows = list(conn.execute(query))
    characteristics: dict[str, list[CharacteristicView]] = {row.id: [] for row in rows}
    if rows:
        query = (select(plan_characteristics).where(plan_characteristics.c.plan_id.in_(list(characteristics)))
                 .order_by(plan_characteristics.c.plan_id, plan_characteristics.c.line_no))
        for c in conn.execute(query):
            characteristics[c.plan_id].append(CharacteristicView(c.line_no, c.name, c.kind, c.nominal, c.lower, c.upper,
                                                                 c.unit))
    return [PlanView(r.id, r.code, r.version, r.name, r.item_id, r.stage, r.supplier_id, r.operation_seq,
                     r.sample_kind, r.sample_value, r.active, r.supersedes_id, r.created_at, r.created_by,
                     characteristics[r.id]) for r in rows]


def list_plans(conn: Connection, *, item_id: str | None = None, stage: str | None = None,
               active_only: bool = False) -> list[PlanView]:
    query = select(inspection_plans).order_by(inspection_plans.c.code, inspection_plans.c.version)
    if item_id:
        query = query.where(inspection_plans.c.item_id == item_id)
    if stage:
        query = query.where(inspection_plans.c.stage == stage)
    if active_only:
        query = query.where(inspection_plans.c.active.is_(True))
    return _plans(conn, query)


def get_plan(conn: Connection, plan_id: str) -> PlanView | None:
    found = _plans(conn, select(inspection_plans).where(inspection_plans.c.id == plan_id))
    return found[0] if found else None


def _result(r: Any) -> ResultView:
    return ResultView(r.id, r.site_id, r.plan_id, r.stage, r.item_id, r.lot_no, r.source_id, r.operation_seq,
                      r.sample_size, r.lot_quantity, r.verdict, r.failed.split(",") if r.failed else [],
                      msgspec.json.decode(r.measurements_json), r.flags.split(",") if r.flags else [],
                      r.supersedes_id, r.note, r.occurred_at, r.inspector, r.device_id)


def list_results(conn: Connection, *, site_id: str | None = None, verdict: str | None = None,
                 flagged: bool = False, item_id: str | None = None, lot_no: str | None = None,
                 source_id: str | None = None, limit: int = 100, after: str | None = None) -> list[ResultView]:
    """Results by id (keyset: ``after`` = the last id seen); ``flagged``: only those with flags."""
    query = select(inspection_results).order_by(inspection_results.c.id).limit(limit)
    for column, value in (("site_id", site_id), ("verdict", verdict), ("item_id", item_id), ("lot_no", lot_no),
                          ("source_id", source_id)):
        if value:
            query = query.where(inspection_results.c[column] == value)
    if flagged:
        query = query.where(inspection_results.c.flags.is_not(None))
    if after:
        query = query.where(inspection_results.c.id > after)
    return [_result(r) for r in conn.execute(query)]


def get_result(conn: Connection, result_id: str) -> ResultView | None:
    row = conn.execute(select(inspection_results).where(inspection_results.c.id == result_id)).first()
    return _result(row) if row is not None else None


def _active_plans(conn: Connection, stage: str) -> dict[str, list[Any]]:
    by_item: dict[str, list[Any]] = {}
    for plan in conn.execute(select(inspection_plans).where(inspection_plans.c.stage == stage,
                                                            inspection_plans.c.active.is_(True))
                             .order_by(inspection_plans.c.code)):
        by_item.setdefault(plan.item_id, []).append(plan)
    return by_item


def _pick(plans: list[Any], *, supplier_id: str | None = None, operation_seq: int | None = None) -> Any:
    """The supplier's own plan before the general one (as ``plan.applicable_plan`` picks)."""
    if operation_seq is not None:
        plans = [plan for plan in plans if plan.operation_seq == operation_seq]
    own = [plan for plan in plans if plan.supplier_id is not None and plan.supplier_id == supplier_id]
    general = [plan for plan in plans if plan.supplier_id is None]
    return (own or general or [None])[0]


def pending(conn: Connection, *, site_id: str | None = None, stage: str | None = None) -> list[PendingInspection]:
    """Receipts, work-order operations and work orders with completions that an active plan covers
    and that have no result yet. Only what happened after the plan was created is pending (a new
    plan does not make last year's receipts due); reversed receipts and cancelled work orders are
    not."""
    found: list[PendingInspection] = []
    if stage in (None, "incoming"):
        found += _pending_receipts(conn, site_id)
    if stage in (None, "in_process"):
        found += _pending_operations(conn, site_id)
    if stage in (None, "final"):
        found += _pending_completions(conn, site_id)
    return found


def _inspected(conn: Connection, stage: str) -> set[tuple[str, int | None]]:
    query = select(inspection_results.c.source_id, inspection_results.c.operation_seq).where(
        inspection_results.c.stage == stage, inspection_results.c.source_id.is_not(None))
    return {(row.source_id, row.operation_seq if stage == "in_process" else None) for row in conn.execute(query)}


def _pending_receipts(conn: Connection, site_id: str | None) -> list[PendingInspection]:
    plans = _active_plans(conn, "incoming")
    if not plans:
        return []
    done = _inspected(conn, "incoming")
    reversed_moves = {row.reverses_id for row in conn.execute(
        select(stock_moves.c.reverses_id).where(stock_moves.c.reverses_id.is_not(None)))}
    r, line, po = po_receipts, purchase_order_lines, purchase_orders
    query = (select(r.c.id, r.c.site_id, r.c.move_id, r.c.quantity, r.c.occurred_at, line.c.item_id,
                    po.c.number, po.c.supplier_id, stock_moves.c.lot_no)
             .join(line, line.c.id == r.c.po_line_id).join(po, po.c.id == r.c.po_id)
             .join(stock_moves, stock_moves.c.id == r.c.move_id, isouter=True)
             .where(r.c.kind == "receipt", line.c.item_id.in_(list(plans)))
             .order_by(r.c.occurred_at, r.c.id))
    if site_id:
        query = query.where(r.c.site_id == site_id)
    found = []
    for row in conn.execute(query):
        plan = _pick(plans[row.item_id], supplier_id=row.supplier_id)
        if plan is None or (row.id, None) in done or row.move_id in reversed_moves or row.occurred_at < plan.created_at:
            continue
        found.append(PendingInspection("incoming", row.site_id, plan.id, plan.code, row.item_id, row.id, row.number,
                                       row.quantity, required_sample(plan.sample_kind, plan.sample_value, row.quantity),
                                       lot_no=row.lot_no))
    return found


def _pending_operations(conn: Connection, site_id: str | None) -> list[PendingInspection]:
    plans = _active_plans(conn, "in_process")
    if not plans:
        return []
    done = _inspected(conn, "in_process")
    op, wo = wo_operations, work_orders
    query = (select(op.c.work_order_id, op.c.sequence, op.c.site_id, op.c.good_quantity, op.c.last_report_at,
                    wo.c.item_id, wo.c.number)
             .join(wo, wo.c.id == op.c.work_order_id)
             .where(op.c.status != "pending", wo.c.status != "cancelled", wo.c.item_id.in_(list(plans)))
             .order_by(wo.c.number, op.c.sequence))
    if site_id:
        query = query.where(op.c.site_id == site_id)
    found = []
    for row in conn.execute(query):
        plan = _pick(plans[row.item_id], operation_seq=row.sequence)
        if plan is None or (row.work_order_id, row.sequence) in done or row.last_report_at is None \
                or row.last_report_at < plan.created_at:
            continue
        found.append(PendingInspection("in_process", row.site_id, plan.id, plan.code, row.item_id, row.work_order_id,
                                       row.number, row.good_quantity,
                                       required_sample(plan.sample_kind, plan.sample_value, row.good_quantity or None),
                                       operation_seq=row.sequence))
    return found


def _pending_completions(conn: Connection, site_id: str | None) -> list[PendingInspection]:
    plans = _active_plans(conn, "final")
    if not plans:
        return []
    done = _inspected(conn, "final")
    wo = work_orders
    # The latest completion of each order: a plan created after it finds nothing to inspect.
    last_completed = {row.document_id: row.last for row in conn.execute(
        select(stock_moves.c.document_id, stock_moves.c.occurred_at.label("last"))
        .where(stock_moves.c.kind == "wo_receipt").order_by(stock_moves.c.occurred_at))}
    query = (select(wo.c.id, wo.c.site_id, wo.c.item_id, wo.c.number, wo.c.completed_quantity)
             .where(wo.c.status != "cancelled", wo.c.item_id.in_(list(plans))).order_by(wo.c.number))
    if site_id:
        query = query.where(wo.c.site_id == site_id)
    found = []
    for row in conn.execute(query):
        plan = _pick(plans[row.item_id])
        last = last_completed.get(row.id)
        if plan is None or (row.id, None) in done or row.completed_quantity <= 0 or last is None \
                or last < plan.created_at:
            continue
        found.append(PendingInspection("final", row.site_id, plan.id, plan.code, row.item_id, row.id, row.number,
                                       row.completed_quantity,
                                       required_sample(plan.sample_kind, plan.sample_value, row.completed_quantity)))
    return found


def _ncr(r: Any) -> NcrView:
    return NcrView(r.id, r.site_id, r.result_id, r.stage, r.item_id, r.lot_no, r.source_id, r.quantity, r.description,
                   r.status, r.held, r.disposition, r.disposition_quantity, r.disposition_note, r.scrap_move_id,
                   r.raised_at, r.raised_by, r.dispositioned_at, r.dispositioned_by, r.closed_at, r.closed_by)


def list_ncrs(conn: Connection, *, site_id: str | None = None, status: str | None = None,
              stage: str | None = None, item_id: str | None = None) -> list[NcrView]:
    query = select(nonconformances).order_by(nonconformances.c.raised_at, nonconformances.c.id)
    for column, value in (("site_id", site_id), ("status", status), ("stage", stage), ("item_id", item_id)):
        if value:
            query = query.where(nonconformances.c[column] == value)
    return [_ncr(r) for r in conn.execute(query)]


def get_ncr(conn: Connection, ncr_id: str) -> NcrView | None:
    row = conn.execute(select(nonconformances).where(nonconformances.c.id == ncr_id)).first()
    return _ncr(row) if row is not None else None


def supplier_ncrs(conn: Connection, *, site_id: str | None = None, supplier_id: str | None = None,
                  open_only: bool = False) -> list[NcrView]:
    """Nonconformances of purchased goods, with the order and supplier: what a buyer takes up."""
    n, r, po = nonconformances, po_receipts, purchase_orders
    query = (select(n, po.c.number.label("po_number"), po.c.supplier_id)
             .join(r, r.c.id == n.c.source_id).join(po, po.c.id == r.c.po_id)
             .where(n.c.stage == "incoming").order_by(n.c.raised_at, n.c.id))
    if site_id:
        query = query.where(n.c.site_id == site_id)
    if supplier_id:
        query = query.where(po.c.supplier_id == supplier_id)
    if open_only:
        query = query.where(n.c.status != "closed")
    views = []
    for row in conn.execute(query):
        view = _ncr(row)
        view.po_number, view.supplier_id = row.po_number, row.supplier_id
        views.append(view)
    return views
