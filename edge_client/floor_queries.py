"""Reads of the local replica for the warehouse and shop-floor screens: a site's open purchase
orders, sales orders and work orders with their lines, an item's inspection plans, the
put-away and FEFO suggestions when the inventory module offers them.

Everything here reads the device's own replica, so it answers offline with what the last sync
brought plus what this device recorded since (its mutations are applied to the replica at once).

Invariants:
- Read only: nothing here writes the replica.
- Open documents are the ones still expecting work: purchase orders approved or partially
  received, sales orders confirmed or partially delivered, work orders released or in progress.
  Looking one up by number answers it whatever its state: a receipt, a delivery or an issue
  against a closed document is still a fact to record (the server flags it).
- Suggestions are advice (``erp.inventory.putaway``, ``erp.inventory.fefo``). They are imported
  when asked for, not at start-up; where the module is missing (a device build without it)
  ``putaway_suggestion`` and ``pick_suggestions`` answer nothing instead of failing, and the
  screens work without them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import Connection, select

from erp.inventory.item import items
from erp.inventory.warehouse import locations
from erp.manufacturing.work_order import wo_materials, wo_operations, work_orders
from erp.purchasing.purchase_order import purchase_order_lines, purchase_orders
from erp.purchasing.supplier import suppliers
from erp.sales.customer import customers
from erp.sales.sales_order import sales_order_lines, sales_orders

OPEN_PO_STATES = ("approved", "partially_received")
OPEN_SO_STATES = ("confirmed", "partially_delivered")
OPEN_WO_STATES = ("released", "in_progress")
ZERO = Decimal(0)


@dataclass(frozen=True)
class DocumentLine:
    """One line of an order as a screen shows it."""

    id: str  # the order line's id (a work order's material line: "<work order id>:<line no>")
    line_no: int
    item_id: str
    sku: str
    name: str
    tracking: str  # none | lot | serial
    ordered: Decimal  # ordered (PO, SO) or required (work order)
    done: Decimal  # net received, delivered, or issued so far
    backflush: bool = False  # a work-order component consumed at completion, not issued by hand

    @property
    def remaining(self) -> Decimal:
        return max(self.ordered - self.done, ZERO)


@dataclass(frozen=True)
class Operation:
    sequence: int
    name: str
    status: str  # pending | running | paused | finished
    good: Decimal
    scrap: Decimal


@dataclass(frozen=True)
class Document:
    """A purchase order, sales order or work order with its lines."""

    id: str
    number: str
    status: str
    party: str  # supplier, customer, or the work order's product (SKU and name)
    lines: tuple[DocumentLine, ...]
    operations: tuple[Operation, ...] = ()
    over_receipt_tolerance: Decimal = ZERO  # percent, purchase orders only

    def lines_of(self, item_id: str) -> list[DocumentLine]:
        return [line for line in self.lines if line.item_id == item_id]


def _grouped(headers: list[Any], lines: list[Any], key: str, make_line: Callable[[Any], DocumentLine],
             make: Callable[[Any, tuple[DocumentLine, ...]], Document]) -> list[Document]:
    by_order: dict[str, list[DocumentLine]] = {}
    for row in lines:
        by_order.setdefault(getattr(row, key), []).append(make_line(row))
    return [make(header, tuple(by_order.get(header.id, ()))) for header in headers]


def _orders_of(conn: Connection, site_id: str, number: str | None, *, orders: Any, order_lines: Any,
               parties: Any, party_id: str, order_key: str, open_states: Any, done: Callable[[Any], Decimal],
               tolerance: bool = False) -> list[Document]:
    """The site's open orders by number, or the one numbered ``number`` in any state, with lines:
    purchase and sales orders read alike, from their own tables."""
    query = (select(orders, parties.c.name.label("party"))
             .outerjoin(parties, parties.c.id == orders.c[party_id])
             .where(orders.c.site_id == site_id).order_by(orders.c.number))
    query = query.where(orders.c.number == number) if number else query.where(orders.c.status.in_(open_states))
    headers = conn.execute(query).all()
    lines = conn.execute(
        select(order_lines, items.c.sku, items.c.name, items.c.tracking)
        .join(items, items.c.id == order_lines.c.item_id)
        .where(order_lines.c[order_key].in_([h.id for h in headers]))
        .order_by(order_lines.c.line_no)).all() if headers else []
    return _grouped(
        headers, lines, order_key,
        lambda r: DocumentLine(r.id, r.line_no, r.item_id, r.sku, r.name, r.tracking, r.quantity, done(r)),
        lambda h, ls: Document(h.id, h.number, h.status, h.party or "", ls,
                               over_receipt_tolerance=h.over_receipt_tolerance if tolerance else ZERO))


def purchase_orders_of(conn: Connection, site_id: str, *, number: str | None = None) -> list[Document]:
    """The site's open purchase orders by number, or the one numbered ``number`` in any state."""
    return _orders_of(conn, site_id, number, orders=purchase_orders, order_lines=purchase_order_lines,
                      parties=suppliers, party_id="supplier_id", order_key="po_id", open_states=OPEN_PO_STATES,
                      done=lambda r: r.received_quantity - r.returned_quantity, tolerance=True)


def sales_orders_of(conn: Connection, site_id: str, *, number: str | None = None) -> list[Document]:
    """The site's open sales orders by number, or the one numbered ``number`` in any state."""
    return _orders_of(conn, site_id, number, orders=sales_orders, order_lines=sales_order_lines,
                      parties=customers, party_id="customer_id", order_key="order_id", open_states=OPEN_SO_STATES,
                      done=lambda r: r.delivered_quantity)


def work_orders_of(conn: Connection, site_id: str, *, number: str | None = None) -> list[Document]:
    """The site's released and running work orders (by due date), or the one numbered ``number``."""
    query = (select(work_orders, (items.c.sku + " " + items.c.name).label("party"))
             .join(items, items.c.id == work_orders.c.item_id)
             .where(work_orders.c.site_id == site_id).order_by(work_orders.c.due_date, work_orders.c.number))
    query = query.where(work_orders.c.number == number) if number else query.where(
        work_orders.c.status.in_(OPEN_WO_STATES))
    headers = conn.execute(query).all()
    ids = [h.id for h in headers]
    materials = conn.execute(
        select(wo_materials, items.c.sku, items.c.name, items.c.tracking)
        .join(items, items.c.id == wo_materials.c.item_id)
        .where(wo_materials.c.work_order_id.in_(ids)).order_by(wo_materials.c.line_no)).all() if ids else []
    operations: dict[str, list[Operation]] = {}
    for row in conn.execute(select(wo_operations).where(wo_operations.c.work_order_id.in_(ids))
                            .order_by(wo_operations.c.sequence)) if ids else ():
        operations.setdefault(row.work_order_id, []).append(
            Operation(row.sequence, row.name, row.status, row.good_quantity, row.scrap_quantity))
    return _grouped(
        headers, materials, "work_order_id",
        lambda r: DocumentLine(f"{r.work_order_id}:{r.line_no}", r.line_no, r.item_id, r.sku, r.name, r.tracking,
                               r.required_quantity, r.issued_quantity, r.backflush),
        lambda h, ls: Document(h.id, h.number, h.status, h.party, ls, tuple(operations.get(h.id, ()))))


# -- suggestions, when the inventory module offers them ----------------------------------------


@dataclass(frozen=True)
class Pick:
    """Where to take goods from: a location, the lot there (None: untracked), and how much."""

    location_id: str
    location_code: str
    lot_no: str | None
    quantity: Decimal
    expires_on: Any = None  # a date when the lot has one


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _location_code(conn: Connection, location_id: str) -> str:
    return conn.execute(select(locations.c.code).where(locations.c.id == location_id)).scalar() or location_id


def pick_suggestions(conn: Connection, *, site_id: str, item_id: str, quantity: Decimal,
                     location_id: str | None = None) -> list[Pick]:
    """First-expiry-first-out picks for ``quantity`` of the item (``erp.inventory.fefo``, which skips
    held and expired lots); [] without it."""
    suggest = _optional("erp.inventory.fefo", "suggest_picks")
    if suggest is None:
        return []
    answer = suggest(conn, site_id=site_id, item_id=item_id, quantity=quantity, location_id=location_id)
    picks = _field(answer, "picks") if not isinstance(answer, (list, tuple)) else answer
    found = []
    for pick in picks or ():
        where = _field(pick, "location_id")
        found.append(Pick(where, _location_code(conn, where), _field(pick, "lot_no"),
                          Decimal(_field(pick, "quantity") or 0), _field(pick, "expires_on")))
    return found


def putaway_suggestion(conn: Connection, *, site_id: str, item_id: str) -> tuple[str, str] | None:
    """(location id, code) of the bin ``erp.inventory.putaway`` suggests for the item; None without one."""
    suggest = _optional("erp.inventory.putaway", "suggest_putaway")
    answer = suggest(conn, site_id=site_id, item_id=item_id) if suggest is not None else None
    if answer is None:
        return None
    location_id = answer if isinstance(answer, str) else _field(answer, "location_id")
    return (location_id, _location_code(conn, location_id)) if location_id else None


# -- inspection plans, when the quality module is installed -----------------------------------


@dataclass(frozen=True)
class Check:
    """One characteristic of a plan: measured (a Decimal within limits) or attribute (ok / not ok)."""

    name: str
    kind: str  # measured | attribute
    nominal: Decimal | None
    lower: Decimal | None
    upper: Decimal | None
    unit: str | None


@dataclass(frozen=True)
class Plan:
    id: str
    code: str
    version: int
    name: str
    stage: str  # incoming | in_process | final
    operation_seq: int | None
    sample_kind: str  # fixed | percent
    sample_value: Decimal
    checks: tuple[Check, ...]


def inspection_plans_for(conn: Connection, item_id: str) -> list[Plan]:
    """The item's active inspection plans (incoming, in-process, final); [] without erp.quality."""
    try:
        from erp.quality.plan import inspection_plans, plan_characteristics
    except ImportError:
        return []
    plans = conn.execute(select(inspection_plans).where(inspection_plans.c.item_id == item_id,
                                                        inspection_plans.c.active.is_(True))
                         .order_by(inspection_plans.c.stage, inspection_plans.c.code)).all()
    checks: dict[str, list[Check]] = {}
    for row in conn.execute(select(plan_characteristics)
                            .where(plan_characteristics.c.plan_id.in_([p.id for p in plans]))
                            .order_by(plan_characteristics.c.line_no)) if plans else ():
        checks.setdefault(row.plan_id, []).append(Check(row.name, row.kind, row.nominal, row.lower, row.upper,
                                                        row.unit))
    return [Plan(p.id, p.code, p.version, p.name, p.stage, p.operation_seq, p.sample_kind, p.sample_value,
                 tuple(checks.get(p.id, ()))) for p in plans]


def latest_receipt(conn: Connection, site_id: str, item_id: str, lot_no: str | None) -> str | None:
    """The id of the site's latest receipt of the item against a purchase order (of that lot, if
    given): what an incoming inspection is of."""
    from erp.inventory.stock_move import stock_moves
    from erp.purchasing.goods_receipt import po_receipts

    query = (select(po_receipts.c.id).join(stock_moves, stock_moves.c.id == po_receipts.c.move_id)
             .where(po_receipts.c.site_id == site_id, po_receipts.c.kind == "receipt",
                    stock_moves.c.item_id == item_id)
             .order_by(po_receipts.c.occurred_at.desc()).limit(1))
    if lot_no:
        query = query.where(stock_moves.c.lot_no == lot_no)
    return conn.execute(query).scalar()


def inspection_verdict(conn: Connection, result_id: str) -> tuple[str, str | None] | None:
    """(verdict, failing characteristics) of a recorded result as this device computed it."""
    from erp.quality.result import inspection_results

    row = conn.execute(select(inspection_results.c.verdict, inspection_results.c.failed)
                       .where(inspection_results.c.id == result_id)).first()
    return (row.verdict, row.failed) if row is not None else None
