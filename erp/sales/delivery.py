"""Deliveries to customers and customer returns against sales-order lines (发货 / 销售退货).

Both are physical facts, recorded on the device that saw them (the dock's tablet, offline or
not) and never refused for the order's state: each appends a stock move and a ``so_deliveries``
row and writes the quantity back to its order line (下推回写), all in the mutation's one
transaction. A delivery also lowers the line's reservation and moves the order to the
delivering state its lines put it in. What needs someone in sales raises a sales exception
(sales_exception.py) instead of a rejection.

A return brings goods back (a stock move of kind ``receipt``) and is written back as the
line's ``returned_quantity``. It does not reopen the order or reserve anything again: whether
the customer gets a credit or a replacement is decided by sales, and a replacement is shipped
on a new order.

Invariants:
- ``so_deliveries`` is a ledger: appended once per delivery id (a replay appends nothing and
  writes nothing back), never changed; ``quantity`` is positive, ``kind`` says the direction.
- A line's ``delivered_quantity`` / ``returned_quantity`` equal the sums of its deliveries /
  returns in ``so_deliveries``.
- A delivery is refused only when it cannot be recorded as asked: an unknown line, a location
  of another site than the order's, a quantity that is not a positive Decimal.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from sqlalchemy import BigInteger, Column, Index, String, Table

from erp.inventory.stock_move import check_quantity, post_move, require_location
from erp.sales import errors
from erp.sales.reservation import follow_delivery
from erp.sales.sales_exception import raise_exception
from erp.sales.sales_order import (
    DELIVERING_STATES, lines_of, order_state, sales_order_lines, sales_orders, status_from_lines,
)
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

so_deliveries = Table(
    "so_deliveries",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("kind", String(8), nullable=False),  # delivery | return
    Column("order_id", ID, nullable=False, index=True),
    Column("order_line_id", ID, nullable=False, index=True),
    Column("move_id", ID, nullable=False),  # the stock move it appended
    Column("location_id", ID, nullable=False),
    Column("quantity", DecimalType, nullable=False),  # > 0
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("device_id", ID),
    Column("seq", BigInteger),
    Column("hlc", String(64), nullable=False),
    Column("user_name", String(120)),
    version_column(),
    Index("ix_so_deliveries_site_key", "site_id", "id"),
    Index("ix_so_deliveries_occurred_at", "occurred_at"),  # sales figures over a date range
)


class DeliverSalesOrder(msgspec.Struct, frozen=True):
    delivery_id: str
    move_id: str
    order_line_id: str
    location_id: str
    quantity: Decimal
    occurred_at: UtcMoment
    lot_no: str | None = None  # the lot picked (FEFO suggests one), for lot-tracked items
    serial_no: str | None = None  # for serial-tracked items: one unit per delivery


class ReturnFromCustomer(msgspec.Struct, frozen=True):
    return_id: str
    move_id: str
    order_line_id: str
    location_id: str
    quantity: Decimal
    occurred_at: UtcMoment
    lot_no: str | None = None  # the lot picked (FEFO suggests one), for lot-tracked items
    serial_no: str | None = None  # for serial-tracked items: one unit per delivery


def _record(ctx: MutationContext, *, kind: str, record_id: str, move_id: str, line_id: str, location_id: str,
            quantity: Decimal, occurred_at: datetime, lot_no: str | None = None,
            serial_no: str | None = None) -> tuple[Any, Any] | None:
    """Append the stock move and the delivery row; None if this one was recorded before."""
    line = ctx.get(sales_order_lines, id=line_id)
    if line is None:
        ctx.reject(errors.UNKNOWN_ORDER_LINE, "this sales-order line does not exist", order_line_id=line_id)
    order = ctx.get(sales_orders, id=line["order_id"])
    location = require_location(ctx, location_id)
    if location["site_id"] != order["site_id"]:
        ctx.reject(errors.SITE_MISMATCH, f"sales order {order['number']} ships from another site; "
                   "record these goods as a plain issue or receipt", order_id=order["id"], location_id=location_id)
    check_quantity(ctx, quantity)
    if not ctx.insert_ledger(so_deliveries, {
        "id": record_id, "site_id": order["site_id"], "kind": kind, "order_id": order["id"], "order_line_id": line_id,
        "move_id": move_id, "location_id": location_id, "quantity": quantity, "occurred_at": occurred_at,
        "device_id": ctx.ref.device_id, "seq": ctx.ref.seq if ctx.ref.device_id else None, "hlc": ctx.ref.hlc,
        "user_name": ctx.actor.user,
    }):
        return None
    reference = f"SO {order['number']}/{line['line_no']}" + (" return" if kind == "return" else "")
    post_move(ctx, move_id=move_id, kind="issue" if kind == "delivery" else "receipt", item_id=line["item_id"],
              location=location, quantity=-quantity if kind == "delivery" else quantity, occurred_at=occurred_at,
              reference=reference, document_id=order["id"], lot_no=lot_no, serial_no=serial_no)
    column = "delivered_quantity" if kind == "delivery" else "returned_quantity"
    written = {column: line[column] + quantity}
    ctx.update(sales_order_lines, {"id": line_id}, written, current=line)
    return order, {**line, **written}


@mutation("sales.deliver", 1, DeliverSalesOrder)
def deliver(ctx: MutationContext, args: DeliverSalesOrder) -> None:
    """Goods left for the customer against a sales-order line."""
    recorded = _record(ctx, kind="delivery", record_id=args.delivery_id, move_id=args.move_id,
                       line_id=args.order_line_id, location_id=args.location_id, quantity=args.quantity,
                       occurred_at=args.occurred_at, lot_no=args.lot_no, serial_no=args.serial_no)
    if recorded is None:
        return
    order, line = recorded
    flag = dict(site_id=order["site_id"], order_id=order["id"], order_line_id=line["id"], delivery_id=args.delivery_id)
    delivering = order["status"] in DELIVERING_STATES
    if not delivering:
        raise_exception(ctx, kind=f"delivery_on_{order['status']}_order", quantity=args.quantity, **flag)
    elif line["delivered_quantity"] > line["quantity"]:
        excess = line["delivered_quantity"] - line["quantity"]
        raise_exception(ctx, kind="over_delivery", quantity=min(excess, args.quantity), **flag)
    follow_delivery(ctx, line, order_open=delivering, at=args.occurred_at)
    if delivering:  # decided states (draft, cancelled, closed) are changed by people only
        target = order_state(order["status"], status_from_lines(lines_of(ctx, order["id"])))
        if target != order["status"]:
            ctx.update(sales_orders, {"id": order["id"]}, {"status": target}, current=order)


@mutation("sales.return_from_customer", 1, ReturnFromCustomer)
def return_from_customer(ctx: MutationContext, args: ReturnFromCustomer) -> None:
    """Goods came back from the customer against a sales-order line."""
    recorded = _record(ctx, kind="return", record_id=args.return_id, move_id=args.move_id,
                       line_id=args.order_line_id, location_id=args.location_id, quantity=args.quantity,
                       occurred_at=args.occurred_at, lot_no=args.lot_no, serial_no=args.serial_no)
    if recorded is None:
        return
    order, line = recorded
    if line["returned_quantity"] > line["delivered_quantity"]:
        raise_exception(ctx, kind="return_exceeds_delivered",
                        quantity=min(line["returned_quantity"] - line["delivered_quantity"], args.quantity),
                        site_id=order["site_id"], order_id=order["id"], order_line_id=line["id"],
                        delivery_id=args.return_id)
