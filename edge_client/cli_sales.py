"""``jcerp edge`` commands for sales and after-sales service on a device: the dock's open sales
orders, deliveries and customer returns against them, availability, and a branch office's
service tickets and visits.

They resolve orders, lines, customers, items, locations and tickets in the device's own
replica, so they work offline; each records a mutation like the tablet app's, decided by the
server on sync (a delivery against an order cancelled meanwhile is still recorded, and sales
gets an exception).
"""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from edge_client.cli import _decimal, _now, _with_client
from edge_client.client import EdgeClient
from edge_client.lookup import find_item, find_location
from edge_client.numbering import next_number, remaining, top_up
from erp.inventory.item import items
from erp.sales.availability import availability
from erp.sales.customer import customers
from erp.sales.delivery import DeliverSalesOrder, ReturnFromCustomer
from erp.sales.sales_order import (
    ConfirmSalesOrder, CreateSalesOrder, NewLine, sales_order_lines, sales_orders,
)
from erp.service.ticket import OpenTicket, service_tickets, short_ref
from erp.service.visit import OUTCOMES, RecordVisit
from sync.errors import NotFound
from sync.ids import new_id

OPEN_STATES = ("confirmed", "partially_delivered")


def _line(client: EdgeClient, number: str, line_no: int | None):
    with client.engine.begin() as conn:
        order = conn.execute(select(sales_orders).where(sales_orders.c.number == number)).first()
        if order is None:
            raise NotFound(f"no sales order {number} on this device (sync, or check the number)",
                           code="edge.unknown_so", number=number)
        lines = conn.execute(select(sales_order_lines).where(sales_order_lines.c.order_id == order.id)
                             .order_by(sales_order_lines.c.line_no)).all()
    if line_no is None and len(lines) == 1:
        return order, lines[0]
    chosen = [line for line in lines if line.line_no == line_no]
    if not chosen:
        raise NotFound(f"sales order {number} has lines {', '.join(str(l.line_no) for l in lines)}: "
                       "choose one with --line", code="edge.unknown_so_line", number=number)
    return order, chosen[0]


def cmd_open_sos(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        rows = conn.execute(
            select(sales_orders.c.number, sales_orders.c.status, customers.c.name.label("customer"),
                   sales_order_lines.c.line_no, items.c.sku, items.c.name, sales_order_lines.c.quantity,
                   sales_order_lines.c.delivered_quantity)
            .join(sales_order_lines, sales_order_lines.c.order_id == sales_orders.c.id)
            .join(items, items.c.id == sales_order_lines.c.item_id)
            .join(customers, customers.c.id == sales_orders.c.customer_id)
            .where(sales_orders.c.status.in_(OPEN_STATES))
            .order_by(sales_orders.c.number, sales_order_lines.c.line_no)).all()
    for row in rows:
        to_deliver = row.quantity - row.delivered_quantity
        if to_deliver <= 0:
            continue  # nothing left to pick on this line
        print(f"{row.number}\t{row.line_no}\t{row.sku}\t{row.name}\t{row.customer}\tordered {row.quantity}\t"
              f"to deliver {to_deliver}\t{row.status}")
    return 0


def _movement(kind: str):
    def command(client: EdgeClient, a: argparse.Namespace) -> int:
        order, line = _line(client, a.so, a.line)
        with client.engine.begin() as conn:
            location = find_location(conn, a.location, client.identity.site_id)
        if kind == "delivery":
            seq = client.run("sales.deliver", DeliverSalesOrder(
                delivery_id=new_id(), move_id=new_id(), order_line_id=line.id, location_id=location.id,
                quantity=a.qty, occurred_at=_now()), user=a.user)
            print(f"delivered {a.qty} of {order.number} line {line.line_no} from {a.location} "
                  f"(mutation #{seq}, pending sync)")
        else:
            seq = client.run("sales.return_from_customer", ReturnFromCustomer(
                return_id=new_id(), move_id=new_id(), order_line_id=line.id, location_id=location.id,
                quantity=a.qty, occurred_at=_now()), user=a.user)
            print(f"returned {a.qty} of {order.number} line {line.line_no} to {a.location} "
                  f"(mutation #{seq}, pending sync)")
        return 0

    return command


def cmd_available(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        item = find_item(conn, a.item)
        found = availability(conn, item.id, client.identity.site_id)
    shortage = f"\tshort {found.shortage}" if found.shortage else ""
    print(f"{item.sku}\ton hand {found.on_hand}\treserved {found.reserved}\tavailable {found.available}{shortage}")
    return 0


def _customer(conn, text: str):
    row = conn.execute(select(customers).where((customers.c.code == text) | (customers.c.id == text))).first()
    if row is None:
        raise NotFound(f"no customer {text!r} on this device (sync, or check the code)", code="edge.unknown_customer")
    return row


def _ticket(conn, site_id: str, text: str):
    """A ticket of the site by its number (final or provisional), its id, or the id's last characters."""
    by_number = conn.execute(select(service_tickets).where(
        service_tickets.c.site_id == site_id,
        (service_tickets.c.number == text.strip()) | (service_tickets.c.provisional_number == text.strip()))).first()
    if by_number is not None:
        return by_number
    text = text.strip().lower()
    if len(text) < 6:
        raise NotFound("give at least 6 characters of the ticket reference", code="edge.unknown_ticket")
    rows = conn.execute(select(service_tickets).where(
        service_tickets.c.site_id == site_id,
        (service_tickets.c.id == text) | (func.substr(service_tickets.c.id, -len(text)) == text))).all()
    if len(rows) != 1:
        raise NotFound(f"{'no' if not rows else 'more than one'} service ticket {text.upper()} on this device",
                       code="edge.unknown_ticket")
    return rows[0]


def cmd_open_ticket(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        customer = _customer(conn, a.customer)
        item = find_item(conn, a.item) if a.item else None
        order_id = None
        if a.so:
            order = conn.execute(select(sales_orders.c.id).where(sales_orders.c.number == a.so)).first()
            if order is None:
                raise NotFound(f"no sales order {a.so} on this device", code="edge.unknown_so", number=a.so)
            order_id = order.id
    ticket_id = new_id()
    number = next_number(client, "service_ticket", user=a.user)
    seq = client.run("service.open_ticket", OpenTicket(
        ticket_id=ticket_id, site_id=client.identity.site_id, customer_id=customer.id, complaint=a.complaint,
        opened_at=_now(), item_id=item.id if item else None, serial_no=a.serial, sales_order_id=order_id,
        warranty_until=a.warranty_until, warranty_months=a.warranty_months, number=number), user=a.user)
    with client.engine.begin() as conn:
        ticket = conn.execute(select(service_tickets).where(service_tickets.c.id == ticket_id)).one()
    warranty = (f"under warranty until {ticket.warranty_until}" if ticket.under_warranty else
                f"warranty over on {ticket.warranty_until}" if ticket.warranty_until else "no warranty known")
    provisional = " (provisional: the server gives the final number)" if ticket.number != number or "-P" in number else ""
    print(f"opened ticket {ticket.number}{provisional} for {customer.name} ({warranty}; mutation #{seq}, pending sync)")
    return 0


def cmd_tickets(client: EdgeClient, a: argparse.Namespace) -> int:
    query = (select(service_tickets, customers.c.name)
             .join(customers, customers.c.id == service_tickets.c.customer_id)
             .where(service_tickets.c.site_id == client.identity.site_id).order_by(service_tickets.c.opened_at))
    if not a.all:
        query = query.where(service_tickets.c.status != "closed")
    with client.engine.begin() as conn:
        rows = conn.execute(query).all()
    for row in rows:
        warranty = "warranty" if row.under_warranty else "-"
        print(f"{row.number or short_ref(row.id)}\t{row.status}\t{row.name}\t{warranty}\t{row.assigned_to or '-'}\t{row.complaint}")
    return 0


def cmd_visit(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        ticket = _ticket(conn, client.identity.site_id, a.ticket)
    seq = client.run("service.record_visit", RecordVisit(new_id(), ticket.id, _now(), a.technician, a.work,
                                                         a.outcome), user=a.user)
    print(f"visit recorded on ticket {ticket.number or short_ref(ticket.id)} ({a.outcome}; mutation #{seq}, pending sync)")
    return 0


def cmd_reserve_numbers(client: EdgeClient, a: argparse.Namespace) -> int:
    for document_type, what in (("service_ticket", "ticket"), ("sales_order", "sales-order")):
        queued = top_up(client, document_type, user=a.user)
        with client.engine.begin() as conn:
            left = remaining(conn, device_id=client.identity.device_id, site_id=client.identity.site_id,
                             document_type=document_type)
        print(f"{left} {what} numbers left on this device; "
              + ("a new block is requested with the next sync" if queued else "no new block needed yet"))
    return 0


def _order_line(text: str) -> tuple[str, Decimal, Decimal]:
    """``ITEM:QUANTITY:PRICE``, the item as SKU, barcode or id."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"{text!r} is not ITEM:QUANTITY:PRICE")
    return parts[0], _decimal(parts[1]), _decimal(parts[2])


def cmd_new_so(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        customer = _customer(conn, a.customer)
        lines = [NewLine(line_id=new_id(), item_id=find_item(conn, item).id, quantity=quantity, unit_price=price)
                 for item, quantity, price in a.line]
    order_id = new_id()
    number = next_number(client, "sales_order", user=a.user)
    seq = client.run("sales.create_order", CreateSalesOrder(
        order_id=order_id, site_id=client.identity.site_id, number=number, customer_id=customer.id, lines=lines,
        note=a.note), user=a.user)
    if a.confirm:
        seq = client.run("sales.confirm_order", ConfirmSalesOrder(order_id), user=a.user)
    provisional = " (provisional: the server gives the final number)" if "-P" in number else ""
    state = "confirmed here; the server checks the credit limit and reserves stock" if a.confirm else "draft"
    print(f"sales order {number}{provisional} for {customer.name}: {len(lines)} lines, {state} "
          f"(mutation #{seq}, pending sync)")
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_sales_commands(sub: argparse._SubParsersAction) -> None:
    user = ("--user", {"help": "who is acting (default: the user signed in on this device)"})

    def command(name: str, help_text: str, handler, *fields: tuple[str, dict]) -> None:
        parser = sub.add_parser(name, help=help_text)
        for flag, options in fields:
            parser.add_argument(flag, **options)
        parser.set_defaults(handler=_with_client(handler))

    command("open-sos", "lines of this site's sales orders still to deliver", cmd_open_sos)
    against_order = (("--so", {"required": True, "help": "sales order number"}),
                     ("--line", {"type": int, "help": "line number (needed when the order has several lines)"}),
                     ("--location", {"required": True, "help": "location code or id"}),
                     ("--qty", {"required": True, "type": _decimal}), user)
    command("deliver", "goods leave for the customer against a sales order", _movement("delivery"), *against_order)
    command("return-so", "goods come back from the customer of a sales order", _movement("return"), *against_order)
    command("available", "on hand − reserved for one item in this site, as this device sees it", cmd_available,
            ("--item", {"required": True, "help": "SKU, barcode or id"}))
    command("open-ticket", "open an after-sales service ticket for a customer's complaint", cmd_open_ticket,
            ("--customer", {"required": True, "help": "customer code or id"}),
            ("--complaint", {"required": True, "help": "what the customer reports"}),
            ("--item", {"help": "SKU, barcode or id of what failed"}), ("--serial", {"help": "serial number"}),
            ("--so", {"help": "the sales order it was sold on (its first delivery starts the warranty)"}),
            ("--warranty-until", {"type": _date, "help": "the last day of warranty, from the warranty card"}),
            ("--warranty-months", {"type": int, "default": 12,
                                   "help": "warranty from the first delivery (default 12)"}),
            user)
    command("tickets", "this site's open service tickets (--all: closed ones too)", cmd_tickets,
            ("--all", {"action": "store_true"}))
    command("visit", "record a technician's visit for a service ticket", cmd_visit,
            ("--ticket", {"required": True, "help": "ticket reference (as `tickets` shows it) or id"}),
            ("--technician", {"required": True}), ("--work", {"required": True, "help": "what was done"}),
            ("--outcome", {"default": "fixed", "choices": OUTCOMES}), user)
    command("reserve-numbers", "ask for blocks of ticket and sales-order numbers while online "
            "(done by itself when low)", cmd_reserve_numbers, user)
    command("new-so", "take a sales order for a customer on this device, offline too", cmd_new_so,
            ("--customer", {"required": True, "help": "customer code or id"}),
            ("--line", {"required": True, "action": "append", "type": _order_line,
                        "help": "ITEM:QUANTITY:PRICE (repeatable); ITEM is a SKU, barcode or id"}),
            ("--note", {}), ("--confirm", {"action": "store_true", "help": "confirm it at once"}), user)
