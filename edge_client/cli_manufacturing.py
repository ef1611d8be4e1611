"""``jcerp edge`` commands for the shop floor: the site's work orders, operation reports, material
issues and returns, and completions with backflush.

They resolve the order (by number or id), items and locations in the device's own replica, so
they work offline; each is a ``manufacturing.*`` mutation like the tablet app's, decided by the
server on sync. A report or completion against an order HQ cancelled or closed meanwhile is
still recorded: the server flags it for review instead of refusing it.

The operator a report names (``--operator``) is who did the work, and what piece-rate pay groups
by; it defaults to the user signed in on the device.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from edge_client.cli import _decimal, _now, _with_client
from edge_client.client import EdgeClient
from edge_client.lookup import find_item, find_location
from erp.inventory.item import items
from erp.manufacturing.completion import ReportCompletion
from erp.manufacturing.material_issue import MaterialMove
from erp.manufacturing.operation_report import ReportOperation
from erp.manufacturing.queries import find_work_order
from erp.manufacturing.work_order import wo_materials, wo_operations, work_orders
from sync.errors import JcerpError, NotFound
from sync.ids import new_id


def _order(client: EdgeClient, text: str) -> Any:
    with client.engine.begin() as conn:
        order = find_work_order(conn, text)
    if order is None:
        raise NotFound(f"no work order {text} on this device (sync, or check the number)",
                       code="edge.unknown_work_order", work_order=text)
    return order


def _operator(client: EdgeClient, a: argparse.Namespace) -> str:
    if a.operator:
        return a.operator
    user = client.current_user()
    if a.user or user is not None:
        return a.user or user.username
    raise JcerpError("say who did the work with --operator (or sign in on this device)", code="edge.operator_missing")


def cmd_work_orders(client: EdgeClient, a: argparse.Namespace) -> int:
    query = (select(work_orders.c.number, work_orders.c.status, items.c.sku, work_orders.c.completed_quantity,
                    work_orders.c.quantity, work_orders.c.due_date)
             .join(items, items.c.id == work_orders.c.item_id)
             .where(work_orders.c.site_id == client.identity.site_id)
             .order_by(work_orders.c.due_date, work_orders.c.number))
    query = query.where(work_orders.c.status == a.status) if a.status else query.where(
        work_orders.c.status.in_(("released", "in_progress")))
    with client.engine.begin() as conn:
        rows = conn.execute(query).all()
    for row in rows:
        print(f"{row.number}\t{row.status}\t{row.sku}\t{row.completed_quantity}/{row.quantity}\tdue {row.due_date}")
    return 0


def cmd_work_order(client: EdgeClient, a: argparse.Namespace) -> int:
    order = _order(client, a.work_order)
    with client.engine.begin() as conn:
        materials = conn.execute(
            select(wo_materials, items.c.sku).join(items, items.c.id == wo_materials.c.item_id)
            .where(wo_materials.c.work_order_id == order.id).order_by(wo_materials.c.line_no)).all()
        operations = conn.execute(select(wo_operations).where(wo_operations.c.work_order_id == order.id)
                                  .order_by(wo_operations.c.sequence)).all()
    print(f"{order.number}  {order.status}  completed {order.completed_quantity} of {order.quantity}, "
          f"due {order.due_date}")
    for m in materials:
        how = "backflush" if m.backflush else "issue"
        print(f"  material {m.line_no}\t{m.sku}\t{how}\trequired {m.required_quantity}\tissued {m.issued_quantity}")
    for o in operations:
        print(f"  operation {o.sequence}\t{o.name}\t{o.status}\tgood {o.good_quantity}\tscrap {o.scrap_quantity}\t"
              f"{o.worked_hours} h")
    return 0


def _report(event: str):
    def command(client: EdgeClient, a: argparse.Namespace) -> int:
        order = _order(client, a.work_order)
        good, scrap = getattr(a, "good", Decimal(0)), getattr(a, "scrap", Decimal(0))
        operator = _operator(client, a)
        seq = client.run("manufacturing.report_operation", ReportOperation(
            report_id=new_id(), work_order_id=order.id, operation_seq=a.op, event=event, operator=operator,
            occurred_at=_now(), good_quantity=good, scrap_quantity=scrap, note=a.note), user=a.user)
        quantities = f" (good {good}, scrap {scrap})" if event != "start" else ""
        print(f"{operator}: {event} operation {a.op} of {order.number}{quantities} (mutation #{seq}, pending sync)")
        return 0

    return command


def _material(name: str, verb: str):
    def command(client: EdgeClient, a: argparse.Namespace) -> int:
        order = _order(client, a.work_order)
        with client.engine.begin() as conn:
            item = find_item(conn, a.item)
            location = find_location(conn, a.location, client.identity.site_id).id if a.location else None
        seq = client.run(name, MaterialMove(move_id=new_id(), work_order_id=order.id, item_id=item.id,
                                            quantity=a.qty, occurred_at=_now(), location_id=location,
                                            reference=a.ref), user=a.user)
        print(f"{verb} {a.qty} × {item.sku} for {order.number} (mutation #{seq}, pending sync)")
        return 0

    return command


def cmd_complete(client: EdgeClient, a: argparse.Namespace) -> int:
    order = _order(client, a.work_order)
    with client.engine.begin() as conn:
        location = find_location(conn, a.location, client.identity.site_id).id if a.location else None
    seq = client.run("manufacturing.report_completion", ReportCompletion(
        completion_id=new_id(), work_order_id=order.id, quantity=a.qty, occurred_at=_now(),
        receipt_location_id=location, note=a.note), user=a.user)
    print(f"completed {a.qty} of {order.number}: components backflushed, goods received "
          f"(mutation #{seq}, pending sync)")
    return 0


def add_manufacturing_commands(sub: argparse._SubParsersAction) -> None:
    listing = sub.add_parser("work-orders", help="this site's work orders (default: released and in progress)")
    listing.add_argument("--status", choices=("planned", "released", "in_progress", "completed", "closed",
                                              "cancelled"))
    listing.set_defaults(handler=_with_client(cmd_work_orders))
    show = sub.add_parser("work-order", help="one work order: its materials and operations")
    show.add_argument("work_order", help="work-order number or id")
    show.set_defaults(handler=_with_client(cmd_work_order))

    def command(name: str, help_text: str, handler, *fields: tuple[str, dict]) -> None:
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("work_order", help="work-order number or id")
        for flag, options in fields:
            parser.add_argument(flag, **options)
        parser.add_argument("--user", help="who is acting (default: the user signed in on this device)")
        parser.set_defaults(handler=_with_client(handler))

    op = ("--op", {"required": True, "type": int, "help": "operation sequence (10, 20...)"})
    operator = ("--operator", {"help": "who did the work (default: the user acting)"})
    note = ("--note", {"default": None})
    good = ("--good", {"type": _decimal, "default": Decimal(0), "help": "good units made since the last report"})
    scrap = ("--scrap", {"type": _decimal, "default": Decimal(0), "help": "scrapped units since the last report"})
    command("op-start", "an operator starts (or resumes) an operation", _report("start"), op, operator, note)
    command("op-pause", "an operator pauses an operation, with what was made", _report("pause"), op, operator, good,
            scrap, note)
    command("op-finish", "an operator finishes an operation, with what was made", _report("finish"), op, operator,
            good, scrap, note)

    item = ("--item", {"required": True, "help": "SKU, barcode or id of the component"})
    qty = ("--qty", {"required": True, "type": _decimal})
    location = ("--location", {"default": None, "help": "location code or id (default: the order's line side)"})
    ref = ("--ref", {"default": None})
    command("wo-issue", "issue components to a work order (领料)",
            _material("manufacturing.issue_material", "issued"), item, qty, location, ref)
    command("wo-top-up", "issue more components than planned (补料)",
            _material("manufacturing.top_up_material", "topped up"), item, qty, location, ref)
    command("wo-return", "return unused components to stock (退料)",
            _material("manufacturing.return_material", "returned"), item, qty, location, ref)
    command("wo-complete", "report good units finished: backflush and receive them (完工入库)", cmd_complete, qty,
            ("--location", {"default": None, "help": "where the goods go (default: the order's)"}), note)
