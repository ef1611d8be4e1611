"""``jcerp edge`` commands for the receiving dock: open purchase orders, receipts and returns.

They resolve the order, its line and the location in the device's own replica, so they work
offline; the receipt is a ``purchasing.receive_po`` mutation like the tablet app's, decided by
the server on sync (a receipt against an order cancelled meanwhile is still recorded, and the
buyer gets an exception).
"""

from __future__ import annotations

import argparse
from decimal import Decimal

from sqlalchemy import select

from edge_client.cli import _decimal, _now, _with_client
from edge_client.client import EdgeClient
from edge_client.lookup import find_location
from erp.inventory.item import items
from erp.purchasing.goods_receipt import ReceivePurchaseOrder, ReturnToSupplier
from erp.purchasing.purchase_order import purchase_order_lines, purchase_orders
from sync.errors import NotFound
from sync.ids import new_id


def _line(client: EdgeClient, number: str, line_no: int | None):
    with client.engine.begin() as conn:
        order = conn.execute(select(purchase_orders).where(purchase_orders.c.number == number)).first()
        if order is None:
            raise NotFound(f"no purchase order {number} on this device (sync, or check the number)",
                           code="edge.unknown_po", number=number)
        lines = conn.execute(select(purchase_order_lines).where(purchase_order_lines.c.po_id == order.id)
                             .order_by(purchase_order_lines.c.line_no)).all()
    if line_no is None and len(lines) == 1:
        return order, lines[0]
    chosen = [line for line in lines if line.line_no == line_no]
    if not chosen:
        raise NotFound(f"purchase order {number} has lines {', '.join(str(l.line_no) for l in lines)}: "
                       "choose one with --line", code="edge.unknown_po_line", number=number)
    return order, chosen[0]


def cmd_open_pos(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        rows = conn.execute(
            select(purchase_orders.c.number, purchase_orders.c.status, purchase_order_lines.c.line_no, items.c.sku,
                   items.c.name, purchase_order_lines.c.quantity, purchase_order_lines.c.received_quantity,
                   purchase_order_lines.c.returned_quantity)
            .join(purchase_order_lines, purchase_order_lines.c.po_id == purchase_orders.c.id)
            .join(items, items.c.id == purchase_order_lines.c.item_id)
            .where(purchase_orders.c.status.in_(("approved", "partially_received")))
            .order_by(purchase_orders.c.number, purchase_order_lines.c.line_no)).all()
    for row in rows:
        open_quantity = max(row.quantity - (row.received_quantity - row.returned_quantity), Decimal(0))
        print(f"{row.number}\t{row.line_no}\t{row.sku}\t{row.name}\tordered {row.quantity}\t"
              f"open {open_quantity}\t{row.status}")
    return 0


def cmd_receive_po(client: EdgeClient, a: argparse.Namespace) -> int:
    order, line = _line(client, a.po, a.line)
    with client.engine.begin() as conn:
        location = find_location(conn, a.location, client.identity.site_id)
    seq = client.run("purchasing.receive_po", ReceivePurchaseOrder(
        receipt_id=new_id(), move_id=new_id(), po_line_id=line.id, location_id=location.id, quantity=a.qty,
        occurred_at=_now()), user=a.user)
    print(f"received {a.qty} against {order.number} line {line.line_no} at {a.location} (mutation #{seq}, pending sync)")
    return 0


def cmd_return_po(client: EdgeClient, a: argparse.Namespace) -> int:
    order, line = _line(client, a.po, a.line)
    with client.engine.begin() as conn:
        location = find_location(conn, a.location, client.identity.site_id)
    seq = client.run("purchasing.return_to_supplier", ReturnToSupplier(
        return_id=new_id(), move_id=new_id(), po_line_id=line.id, location_id=location.id, quantity=a.qty,
        occurred_at=_now()), user=a.user)
    print(f"returned {a.qty} of {order.number} line {line.line_no} from {a.location} (mutation #{seq}, pending sync)")
    return 0


def add_purchasing_commands(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("open-pos", help="purchase orders of this site still expecting goods").set_defaults(
        handler=_with_client(cmd_open_pos))
    for name, help_text, handler in (("receive-po", "goods arrived against a purchase order", cmd_receive_po),
                                     ("return-po", "goods go back to the supplier of a purchase order",
                                      cmd_return_po)):
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("--po", required=True, help="purchase order number")
        parser.add_argument("--line", type=int, help="line number (needed when the order has several lines)")
        parser.add_argument("--location", required=True, help="location code or id")
        parser.add_argument("--qty", required=True, type=_decimal)
        parser.add_argument("--user", help="who is acting (default: the user signed in on this device)")
        parser.set_defaults(handler=_with_client(handler))
