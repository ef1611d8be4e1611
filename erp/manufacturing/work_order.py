"""Work orders: make a quantity of an item at a site, from a released BOM and a routing.

The state machine is in ``work_order_status.py`` (pure, with its diagram). This file holds the
order and the two sets of lines it is created with, and the decisions HQ makes about it:

- ``work_orders``: the order, its state and its completed quantity;
- ``wo_materials``: its material requirements, the BOM exploded at creation (phantoms exploded
  through, ``bom_explosion.py``): per line the quantity per unit with and without scrap, the
  quantity required, whether it is backflushed, and the net quantity issued so far;
- ``wo_operations``: the routing's operations copied at creation, with what the shop floor
  reported on each (good and scrap quantities, worked hours, last state).

Orders are created at HQ (a planner converts planned orders) and belong to one site. Their
rows are derived: written only by the module's mutations (create, the decisions below,
material moves, operation reports, completions), never edited field by field, so the
server's copy replaces a device's optimistic one on every pull.

Invariants:
- Requirements and operations are fixed at creation: later versions of the BOM or changes to
  the routing do not change existing orders. Stored per-unit quantities and required
  quantities are rounded up to 9 decimals (``checks.ceil_9``).
- ``completed_quantity`` and ``wo_materials.issued_quantity`` change only in the same
  transaction as the stock moves that justify them (``material_issue.py``, ``completion.py``).
- ``release``, ``cancel``, ``close`` and ``finish`` are checked against the order's state and
  refused with ``manufacturing.invalid_transition``; physical facts never are (see
  ``record_fact``).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

import msgspec
from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, select

from erp.inventory.stock_move import require_item
from erp.inventory.warehouse import locations
from erp.manufacturing import errors
from erp.manufacturing.bom import boms, effective_bom, explosion_lines
from erp.manufacturing.bom_explosion import ExplosionLine, explode
from erp.manufacturing.checks import EXACT, ceil_9, check_quantity, check_text, rejecting
from erp.manufacturing.routing import routing_operations, routings
from erp.manufacturing.work_order_exception import flag_work_order
from erp.manufacturing.work_order_status import FACTS_FLAGGED, transition
from erp.org.site import sites
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

work_orders = Table(
    "work_orders",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("number", String(40), nullable=False, unique=True),  # 工单号, what people type and print
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("bom_id", ID, ForeignKey("boms.id"), nullable=False),
    Column("routing_id", ID, ForeignKey("routings.id")),  # None: no operations to report
    Column("quantity", DecimalType, nullable=False),  # planned
    Column("due_date", String(10), nullable=False),  # ISO 8601 date: its text sorts as the date
    Column("issue_location_id", ID, ForeignKey("locations.id"), nullable=False),  # line side: issues, backflush
    Column("receipt_location_id", ID, ForeignKey("locations.id"), nullable=False),  # finished goods (完工入库)
    Column("status", String(16), nullable=False),
    Column("completed_quantity", DecimalType, nullable=False),  # good units received so far
    Column("material_lines", Integer, nullable=False),  # its requirements are lines 1..material_lines
    Column("note", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120)),
    Column("released_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    Column("closed_at", UtcDateTime),  # closed or cancelled
    version_column(),
    Index("ix_work_orders_site_version", "site_id", "_version"),
    Index("ix_work_orders_site_key", "site_id", "id"),  # bootstrap reads a site in key order
)

wo_materials = Table(
    "wo_materials",
    metadata,
    Column("work_order_id", ID, ForeignKey("work_orders.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    Column("site_id", ID, nullable=False),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("backflush", Boolean, nullable=False),  # issued automatically at completion (倒冲)
    Column("quantity_per", DecimalType, nullable=False),  # per unit of the product, without scrap
    Column("gross_quantity_per", DecimalType, nullable=False),  # with scrap: what is issued per unit
    Column("required_quantity", DecimalType, nullable=False),  # order quantity × gross per unit
    Column("issued_quantity", DecimalType, nullable=False),  # issues + top-ups + backflush − returns
    version_column(),
    Index("ix_wo_materials_site_version", "site_id", "_version"),
    Index("ix_wo_materials_site_key", "site_id", "work_order_id", "line_no"),
)

wo_operations = Table(
    "wo_operations",
    metadata,
    Column("work_order_id", ID, ForeignKey("work_orders.id"), primary_key=True),
    Column("sequence", Integer, primary_key=True, autoincrement=False),
    Column("site_id", ID, nullable=False),
    Column("name", String(200), nullable=False),
    Column("work_centre_id", ID, ForeignKey("work_centres.id"), nullable=False),
    Column("setup_hours", DecimalType, nullable=False),
    Column("run_hours_per_unit", DecimalType, nullable=False),
    # From the operation reports (``operation_report.py``), recomputed with each one:
    Column("status", String(16), nullable=False),  # pending | running | paused | finished
    Column("good_quantity", DecimalType, nullable=False),
    Column("scrap_quantity", DecimalType, nullable=False),
    Column("worked_hours", DecimalType, nullable=False),  # start→pause/finish intervals, all operators
    Column("last_report_at", UtcDateTime),
    version_column(),
    Index("ix_wo_operations_site_version", "site_id", "_version"),
    Index("ix_wo_operations_site_key", "site_id", "work_order_id", "sequence"),
)


def require_work_order(ctx: MutationContext, work_order_id: str) -> Mapping[str, Any]:
    work_order = ctx.get(work_orders, id=work_order_id)
    if work_order is None:
        ctx.reject(errors.UNKNOWN_WORK_ORDER, "this work order does not exist", work_order_id=work_order_id)
    return work_order


def require_site_location(ctx: MutationContext, location_id: str, site_id: str) -> Mapping[str, Any]:
    location = ctx.get(locations, id=location_id)
    if location is None:
        ctx.reject(errors.UNKNOWN_LOCATION, "this location does not exist", location_id=location_id)
    if location["site_id"] != site_id:
        ctx.reject(errors.SITE_MISMATCH, "the location is at another site than the work order",
                   location_id=location_id, site_id=site_id)
    return location


def fact_status(ctx: MutationContext, work_order: Mapping[str, Any], *, ref: str) -> str:
    """The order's state after a physical fact (material move, report, completion), written by
    the caller: a released order starts; an order not open for facts (planned, cancelled,
    closed) keeps its state and gets an exception to review, naming ``ref``."""
    status = work_order["status"]
    kind = FACTS_FLAGGED.get(status)
    if kind is not None:
        flag_work_order(ctx, work_order, kind=kind, ref=ref)
        return status
    return transition(status, "start") if status == "released" else status


def record_fact(ctx: MutationContext, work_order: Mapping[str, Any], *, ref: str) -> str:
    """``fact_status``, with the new state written. Returns it."""
    status = fact_status(ctx, work_order, ref=ref)
    if status != work_order["status"]:
        ctx.update(work_orders, {"id": work_order["id"]}, {"status": status}, current=work_order)
    return status


def _phantom_boms(ctx: MutationContext, lines: list[ExplosionLine]) -> dict[str, list[ExplosionLine]]:
    """The effective BOM lines of every phantom reachable from ``lines`` (a loop is left for
    ``explode`` to name)."""
    found: dict[str, list[ExplosionLine]] = {}
    waiting = [line.component_id for line in lines if line.phantom]
    while waiting:
        item_id = waiting.pop()
        if item_id in found:
            continue
        bom = effective_bom(ctx.conn, item_id)
        found[item_id] = explosion_lines(ctx.conn, bom["id"]) if bom is not None else []
        waiting.extend(line.component_id for line in found[item_id] if line.phantom)
    return found


class CreateWorkOrder(msgspec.Struct, frozen=True):
    work_order_id: str
    site_id: str
    number: str
    item_id: str
    quantity: Decimal
    due_date: date
    issue_location_id: str  # where components are issued and backflushed from
    receipt_location_id: str  # where finished goods are received
    bom_id: str | None = None  # None: the item's effective (latest released) BOM
    routing_id: str | None = None
    note: str | None = None


class WorkOrderDecision(msgspec.Struct, frozen=True):
    work_order_id: str
    note: str | None = None


@mutation("manufacturing.create_work_order", 1, CreateWorkOrder)
def create_work_order(ctx: MutationContext, args: CreateWorkOrder) -> None:
    """Plan a work order: explode its BOM into material requirements and copy its routing."""
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.UNKNOWN_SITE, "this site does not exist", site_id=args.site_id)
    check_text(ctx, args.number, "number")
    if ctx.conn.execute(select(work_orders.c.id).where(work_orders.c.number == args.number)).first() is not None:
        ctx.reject(errors.CODE_TAKEN, f"work order {args.number} already exists", number=args.number)
    require_item(ctx, args.item_id)
    check_quantity(ctx, args.quantity)
    for location_id in (args.issue_location_id, args.receipt_location_id):
        require_site_location(ctx, location_id, args.site_id)
    bom = ctx.get(boms, id=args.bom_id) if args.bom_id else effective_bom(ctx.conn, args.item_id)
    if bom is None:
        ctx.reject(errors.BOM_NOT_RELEASED if args.bom_id is None else errors.UNKNOWN_BOM,
                   "no released BOM for this item" if args.bom_id is None else "this BOM does not exist",
                   item_id=args.item_id, bom_id=args.bom_id)
    if bom["item_id"] != args.item_id:
        ctx.reject(errors.BOM_ITEM_MISMATCH, "the BOM makes another item", bom_id=bom["id"], item_id=args.item_id)
    if bom["status"] != "released":
        ctx.reject(errors.BOM_NOT_RELEASED, f"version {bom['version']} of this BOM is {bom['status']}; "
                   "a work order needs a released BOM", bom_id=bom["id"], status=bom["status"])
    operations = _routing_operations(ctx, args)
    lines = explosion_lines(ctx.conn, bom["id"])
    requirements = rejecting(ctx, lambda: explode(args.item_id, lines, _phantom_boms(ctx, lines)))

    ctx.insert(work_orders, {
        "id": args.work_order_id, "site_id": args.site_id, "number": args.number, "item_id": args.item_id,
        "bom_id": bom["id"], "routing_id": args.routing_id, "quantity": args.quantity,
        "due_date": args.due_date.isoformat(), "issue_location_id": args.issue_location_id,
        "receipt_location_id": args.receipt_location_id, "status": "planned", "completed_quantity": Decimal(0),
        "material_lines": len(requirements), "note": args.note, "created_at": datetime.now(timezone.utc),
        "created_by": ctx.actor.user,
    })
    for line_no, requirement in enumerate(requirements, start=1):
        gross = ceil_9(requirement.gross_quantity_per)
        ctx.insert(wo_materials, {
            "work_order_id": args.work_order_id, "line_no": line_no, "site_id": args.site_id,
            "item_id": requirement.item_id, "backflush": requirement.backflush,
            "quantity_per": ceil_9(requirement.quantity_per), "gross_quantity_per": gross,
            "required_quantity": ceil_9(EXACT.multiply(args.quantity, gross)), "issued_quantity": Decimal(0),
        })
    for operation in operations:
        ctx.insert(wo_operations, {
            "work_order_id": args.work_order_id, "sequence": operation["sequence"], "site_id": args.site_id,
            "name": operation["name"], "work_centre_id": operation["work_centre_id"],
            "setup_hours": operation["setup_hours"], "run_hours_per_unit": operation["run_hours_per_unit"],
            "status": "pending", "good_quantity": Decimal(0), "scrap_quantity": Decimal(0),
            "worked_hours": Decimal(0), "last_report_at": None,
        })


def _routing_operations(ctx: MutationContext, args: CreateWorkOrder) -> list[Mapping[str, Any]]:
    if args.routing_id is None:
        return []
    routing = ctx.get(routings, id=args.routing_id)
    if routing is None:
        ctx.reject(errors.UNKNOWN_ROUTING, "this routing does not exist", routing_id=args.routing_id)
    if routing["item_id"] != args.item_id:
        ctx.reject(errors.BOM_ITEM_MISMATCH, "the routing makes another item", routing_id=args.routing_id,
                   item_id=args.item_id)
    if routing["site_id"] != args.site_id:
        ctx.reject(errors.SITE_MISMATCH, "the routing is for another site", routing_id=args.routing_id,
                   site_id=args.site_id)
    if not routing["active"]:
        ctx.reject(errors.UNKNOWN_ROUTING, "this routing is retired", routing_id=args.routing_id)
    return list(ctx.conn.execute(select(routing_operations).where(routing_operations.c.routing_id == args.routing_id)
                                 .order_by(routing_operations.c.sequence)).mappings())


def _decide(ctx: MutationContext, args: WorkOrderDecision, event: str, stamp: str | None) -> None:
    work_order = require_work_order(ctx, args.work_order_id)
    target = rejecting(ctx, lambda: transition(work_order["status"], event))
    values: dict[str, Any] = {"status": target}
    if stamp is not None:
        values[stamp] = datetime.now(timezone.utc)
    if args.note:
        values["note"] = args.note if not work_order["note"] else f"{work_order['note']}\n{args.note}"
    ctx.update(work_orders, {"id": args.work_order_id}, values, current=work_order)


@mutation("manufacturing.release_work_order", 1, WorkOrderDecision)
def release_work_order(ctx: MutationContext, args: WorkOrderDecision) -> None:
    """Release a planned order to the shop floor."""
    _decide(ctx, args, "release", "released_at")


@mutation("manufacturing.cancel_work_order", 1, WorkOrderDecision)
def cancel_work_order(ctx: MutationContext, args: WorkOrderDecision) -> None:
    """Cancel an order nobody has started (planned or released)."""
    _decide(ctx, args, "cancel", "closed_at")


@mutation("manufacturing.finish_work_order", 1, WorkOrderDecision)
def finish_work_order(ctx: MutationContext, args: WorkOrderDecision) -> None:
    """Declare an order in progress completed although short of its planned quantity."""
    _decide(ctx, args, "complete", "completed_at")


@mutation("manufacturing.close_work_order", 1, WorkOrderDecision)
def close_work_order(ctx: MutationContext, args: WorkOrderDecision) -> None:
    """Close a completed order: its costs are final; late facts against it are flagged."""
    _decide(ctx, args, "close", "closed_at")
