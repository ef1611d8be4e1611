"""Read models of the purchasing module for the HQ API: plain functions over a Connection.

They return msgspec structs, so the HTTP layer only serializes. Open quantities and the list of
goods received not yet invoiced are computed from the written-back line quantities, which the
receipts keep equal to the ``po_receipts`` ledger.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec
from sqlalchemy import Connection, select

from erp.inventory.item import items
from erp.purchasing.goods_receipt import po_receipts
from erp.purchasing.purchase_order import RECEIVING_STATES, purchase_order_lines, purchase_orders
from erp.purchasing.purchasing_exception import purchasing_exceptions
from erp.purchasing.supplier import suppliers


class SupplierView(msgspec.Struct):
    id: str
    code: str
    name: str
    contact: str | None
    active: bool


class LineView(msgspec.Struct):
    id: str
    line_no: int
    item_id: str
    quantity: Decimal
    unit_price: Decimal
    received_quantity: Decimal
    returned_quantity: Decimal
    invoiced_quantity: Decimal
    open_quantity: Decimal  # still to arrive: ordered − (received − returned), never below 0


class ReceiptView(msgspec.Struct):
    id: str
    kind: str
    po_line_id: str
    move_id: str
    location_id: str
    quantity: Decimal
    occurred_at: datetime
    device_id: str | None
    user_name: str | None


class PurchaseOrderView(msgspec.Struct):
    id: str
    site_id: str
    number: str
    supplier_id: str
    status: str
    over_receipt_tolerance: Decimal
    expected_at: datetime | None
    note: str | None
    created_at: datetime
    created_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    cancel_reason: str | None
    lines: list[LineView]
    receipts: list[ReceiptView] = []


class GrniView(msgspec.Struct):
    """A line with goods received but not yet invoiced (暂估), valued at the order price."""

    po_id: str
    po_number: str
    site_id: str
    supplier_id: str
    supplier_name: str
    po_line_id: str
    item_id: str
    sku: str
    quantity: Decimal
    value: Decimal


class PurchasingExceptionView(msgspec.Struct):
    id: str
    site_id: str
    kind: str
    po_id: str
    po_line_id: str
    receipt_id: str
    quantity: Decimal
    involved: dict
    status: str
    raised_at: datetime
    review_note: str | None


def _line(row) -> LineView:
    net = row.received_quantity - row.returned_quantity
    return LineView(row.id, row.line_no, row.item_id, row.quantity, row.unit_price, row.received_quantity,
                    row.returned_quantity, row.invoiced_quantity, max(row.quantity - net, Decimal(0)))


def _orders(conn: Connection, rows, *, with_receipts: bool = False) -> list[PurchaseOrderView]:
    rows = list(rows)
    ids = [row.id for row in rows]
    lines: dict[str, list[LineView]] = {po_id: [] for po_id in ids}
    receipts: dict[str, list[ReceiptView]] = {po_id: [] for po_id in ids}
    if ids:
        for line in conn.execute(select(purchase_order_lines).where(purchase_order_lines.c.po_id.in_(ids))
                                 .order_by(purchase_order_lines.c.po_id, purchase_order_lines.c.line_no)):
            lines[line.po_id].append(_line(line))
        if with_receipts:
            for r in conn.execute(select(po_receipts).where(po_receipts.c.po_id.in_(ids))
                                  .order_by(po_receipts.c.occurred_at, po_receipts.c.id)):
                receipts[r.po_id].append(ReceiptView(r.id, r.kind, r.po_line_id, r.move_id, r.location_id,
                                                     r.quantity, r.occurred_at, r.device_id, r.user_name))
    return [PurchaseOrderView(r.id, r.site_id, r.number, r.supplier_id, r.status, r.over_receipt_tolerance,
                              r.expected_at, r.note, r.created_at, r.created_by, r.decided_at, r.decided_by,
                              r.cancel_reason, lines[r.id], receipts[r.id]) for r in rows]


def list_suppliers(conn: Connection) -> list[SupplierView]:
    return [SupplierView(r.id, r.code, r.name, r.contact, r.active)
            for r in conn.execute(select(suppliers).order_by(suppliers.c.code))]


def list_purchase_orders(conn: Connection, *, site_id: str | None, status: str | None, supplier_id: str | None,
                         open_only: bool = False, limit: int = 100, after: str | None = None) -> list[PurchaseOrderView]:
    """Orders by id (keyset: ``after`` = the last id seen); ``open_only``: still receiving."""
    query = select(purchase_orders).order_by(purchase_orders.c.id).limit(limit)
    if site_id:
        query = query.where(purchase_orders.c.site_id == site_id)
    if status:
        query = query.where(purchase_orders.c.status == status)
    if supplier_id:
        query = query.where(purchase_orders.c.supplier_id == supplier_id)
    if open_only:
        query = query.where(purchase_orders.c.status.in_(sorted(RECEIVING_STATES - {"received"})))
    if after:
        query = query.where(purchase_orders.c.id > after)
    return _orders(conn, conn.execute(query))


def get_purchase_order(conn: Connection, po_id: str) -> PurchaseOrderView | None:
    found = _orders(conn, conn.execute(select(purchase_orders).where(purchase_orders.c.id == po_id)),
                    with_receipts=True)
    return found[0] if found else None


def received_not_invoiced(conn: Connection, *, site_id: str | None) -> list[GrniView]:
    line, po = purchase_order_lines, purchase_orders
    # The difference is taken in Python: SQLite keeps Decimals as text, whose SQL arithmetic
    # would round through floating point.
    query = (select(po.c.id, po.c.number, po.c.site_id, po.c.supplier_id, suppliers.c.name, line.c.id.label("line_id"),
                    line.c.item_id, items.c.sku, line.c.received_quantity, line.c.returned_quantity,
                    line.c.invoiced_quantity, line.c.unit_price)
             .join(po, po.c.id == line.c.po_id).join(suppliers, suppliers.c.id == po.c.supplier_id)
             .join(items, items.c.id == line.c.item_id).order_by(po.c.number, line.c.line_no))
    if site_id:
        query = query.where(po.c.site_id == site_id)
    views = []
    for r in conn.execute(query):
        quantity = r.received_quantity - r.returned_quantity - r.invoiced_quantity
        if quantity <= 0:
            continue
        views.append(GrniView(r.id, r.number, r.site_id, r.supplier_id, r.name, r.line_id, r.item_id, r.sku,
                              quantity, quantity * r.unit_price))
    return views


def list_exceptions(conn: Connection, *, site_id: str | None, status: str | None) -> list[PurchasingExceptionView]:
    query = select(purchasing_exceptions).order_by(purchasing_exceptions.c.raised_at, purchasing_exceptions.c.id)
    if site_id:
        query = query.where(purchasing_exceptions.c.site_id == site_id)
    if status:
        query = query.where(purchasing_exceptions.c.status == status)
    return [PurchasingExceptionView(r.id, r.site_id, r.kind, r.po_id, r.po_line_id, r.receipt_id, r.quantity,
                                    msgspec.json.decode(r.involved_json), r.status, r.raised_at, r.review_note)
            for r in conn.execute(query)]
