"""Goods receipts and purchase returns against purchase-order lines (收货 / 采购退货).

Both are physical facts, recorded on the device that saw them (offline or not) and never
refused for the order's state: each appends a stock move and a ``po_receipts`` row, writes the
quantity back to its order line (下推回写) and recomputes the order's receiving state, all in
the mutation's one transaction. What needs a buyer's eye raises a purchasing exception
(purchasing_exception.py) instead of a rejection.

Invariants:
- ``po_receipts`` is a ledger: appended once per receipt id (a replay appends nothing and
  writes nothing back), never changed; ``quantity`` is positive, ``kind`` says the direction.
- A line's ``received_quantity`` / ``returned_quantity`` equal the sums of its receipts /
  returns in ``po_receipts``.
- A receipt is refused only when it cannot be recorded as asked: an unknown line, a location
  of another site than the order's, a quantity that is not a positive Decimal.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from sqlalchemy import BigInteger, Column, Index, String, Table

from erp.inventory.stock_move import check_quantity, post_move, require_location
from erp.purchasing import errors
from erp.purchasing.purchase_order import (
    RECEIVING_STATES, change_state, lines_of, net_received, purchase_order_lines, purchase_orders, status_from_lines,
)
from erp.purchasing.purchasing_exception import raise_exception
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

po_receipts = Table(
    "po_receipts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("kind", String(8), nullable=False),  # receipt | return
    Column("po_id", ID, nullable=False, index=True),
    Column("po_line_id", ID, nullable=False, index=True),
    Column("move_id", ID, nullable=False),  # the stock move it appended
    Column("location_id", ID, nullable=False),
    Column("quantity", DecimalType, nullable=False),  # > 0
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("device_id", ID),
    Column("seq", BigInteger),
    Column("hlc", String(64), nullable=False),
    Column("user_name", String(120)),
    version_column(),
    Index("ix_po_receipts_site_key", "site_id", "id"),
)


class ReceivePurchaseOrder(msgspec.Struct, frozen=True):
    receipt_id: str
    move_id: str
    po_line_id: str
    location_id: str
    quantity: Decimal
    occurred_at: UtcMoment
    lot_no: str | None = None  # the supplier's lot (批次), for lot-tracked items
    expires_on: date | None = None  # the lot's expiry printed on the goods, when known


class ReturnToSupplier(msgspec.Struct, frozen=True):
    return_id: str
    move_id: str
    po_line_id: str
    location_id: str
    quantity: Decimal
    occurred_at: UtcMoment
    lot_no: str | None = None


def _record(ctx: MutationContext, *, kind: str, record_id: str, move_id: str, line_id: str, location_id: str,
            quantity: Decimal, occurred_at: datetime, lot_no: str | None = None,
            expires_on: date | None = None) -> tuple[Any, Any, Any] | None:
    """Append the stock move and the receipt row; None if this receipt was recorded before."""
    line = ctx.get(purchase_order_lines, id=line_id)
    if line is None:
        ctx.reject(errors.UNKNOWN_PO_LINE, "this purchase-order line does not exist", po_line_id=line_id)
    po = ctx.get(purchase_orders, id=line["po_id"])
    location = require_location(ctx, location_id)
    if location["site_id"] != po["site_id"]:
        ctx.reject(errors.SITE_MISMATCH, f"purchase order {po['number']} is delivered to another site; "
                   "record these goods as a plain receipt", po_id=po["id"], location_id=location_id)
    check_quantity(ctx, quantity)
    signed = quantity if kind == "receipt" else -quantity
    reference = f"PO {po['number']}/{line['line_no']}" + (" return" if kind == "return" else "")
    if not ctx.insert_ledger(po_receipts, {
        "id": record_id, "site_id": po["site_id"], "kind": kind, "po_id": po["id"], "po_line_id": line_id,
        "move_id": move_id, "location_id": location_id, "quantity": quantity, "occurred_at": occurred_at,
        "device_id": ctx.ref.device_id, "seq": ctx.ref.seq if ctx.ref.device_id else None, "hlc": ctx.ref.hlc,
        "user_name": ctx.actor.user,
    }):
        return None
    post_move(ctx, move_id=move_id, kind="receipt" if kind == "receipt" else "issue", item_id=line["item_id"],
              location=location, quantity=signed, occurred_at=occurred_at, reference=reference, document_id=po["id"],
              lot_no=lot_no, unit_cost=line["unit_price"] if kind == "receipt" else None, expires_on=expires_on,
              may_move_held=kind == "return")  # a held lot goes back to its supplier
    column = "received_quantity" if kind == "receipt" else "returned_quantity"
    written = {column: line[column] + quantity}
    ctx.update(purchase_order_lines, {"id": line_id}, written, current=line)
    return po, {**line, **written}, location


def _follow_lines(ctx: MutationContext, po: Any) -> None:
    """Move a receiving order to the state its lines' quantities put it in."""
    if po["status"] not in RECEIVING_STATES:
        return  # decided states (draft, cancelled, closed) are changed by people only
    target = change_state(po["status"], status_from_lines(lines_of(ctx, po["id"])))
    if target != po["status"]:
        ctx.update(purchase_orders, {"id": po["id"]}, {"status": target}, current=po)


@mutation("purchasing.receive_po", 1, ReceivePurchaseOrder)
def receive_po(ctx: MutationContext, args: ReceivePurchaseOrder) -> None:
    """Receive goods against a purchase-order line."""
    recorded = _record(ctx, kind="receipt", record_id=args.receipt_id, move_id=args.move_id,
                       line_id=args.po_line_id, location_id=args.location_id, quantity=args.quantity,
                       occurred_at=args.occurred_at, lot_no=args.lot_no, expires_on=args.expires_on)
    if recorded is None:
        return
    po, line, _ = recorded
    flag = dict(site_id=po["site_id"], po_id=po["id"], po_line_id=line["id"], receipt_id=args.receipt_id)
    if po["status"] in ("cancelled", "closed", "draft"):
        raise_exception(ctx, kind=f"receipt_on_{po['status']}_po", quantity=args.quantity, **flag)
    else:
        allowed = line["quantity"] * (1 + po["over_receipt_tolerance"] / 100)
        excess = net_received(line) - allowed
        if excess > 0:
            raise_exception(ctx, kind="over_receipt", quantity=min(excess, args.quantity), **flag)
    _follow_lines(ctx, po)


@mutation("purchasing.return_to_supplier", 1, ReturnToSupplier)
def return_to_supplier(ctx: MutationContext, args: ReturnToSupplier) -> None:
    """Send goods received against a purchase-order line back to the supplier."""
    recorded = _record(ctx, kind="return", record_id=args.return_id, move_id=args.move_id,
                       line_id=args.po_line_id, location_id=args.location_id, quantity=args.quantity,
                       occurred_at=args.occurred_at, lot_no=args.lot_no)
    if recorded is None:
        return
    po, line, _ = recorded
    if net_received(line) < 0:
        raise_exception(ctx, kind="return_exceeds_received", quantity=-net_received(line), site_id=po["site_id"],
                        po_id=po["id"], po_line_id=line["id"], receipt_id=args.return_id)
    _follow_lines(ctx, po)
