"""Read models of the sales module for the HQ API: plain functions over a Connection.

They return msgspec structs, so the HTTP layer only serializes. Open and backordered
quantities come from the written-back line quantities, which deliveries keep equal to the
``so_deliveries`` ledger; sales figures come from that ledger itself (deliveries − returns),
valued at the order line's price. Personal fields of contacts and leads are NULL for a caller
without ``sales.view_contact_details`` and are then not even read. Amounts are summed in
Python: SQLite keeps Decimals as text, whose SQL arithmetic would round through floats.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable

import msgspec
from sqlalchemy import Connection, select

from erp.inventory.item import items
from erp.inventory.on_hand import on_hand
from erp.sales.availability import AvailabilityView, compute, view
from erp.sales.contact import PERSONAL_FIELDS as CONTACT_FIELDS
from erp.sales.contact import customer_contacts
from erp.sales.customer import customers
from erp.sales.delivery import so_deliveries
from erp.sales.lead import PERSONAL_FIELDS as LEAD_FIELDS
from erp.sales.lead import leads
from erp.sales.opportunity import opportunities
from erp.sales.quotation import quotation_lines, quotations
from erp.sales.reservation import reserved_stock, stock_reservations
from erp.sales.sales_exception import sales_exceptions
from erp.sales.sales_order import DELIVERING_STATES, open_order_value, sales_order_lines, sales_orders
from sync.visibility import allowed

ZERO = Decimal(0)
BACKORDER_STATES = ("confirmed", "partially_delivered")


class CustomerView(msgspec.Struct):
    id: str
    code: str
    name: str
    address: str | None
    credit_limit: Decimal | None  # NULL: no limit
    active: bool
    field_versions: dict[str, int]


class CreditView(msgspec.Struct):
    customer_id: str
    credit_limit: Decimal | None
    open_order_value: Decimal  # confirmed orders not closed or cancelled, every site
    headroom: Decimal | None  # what may still be confirmed; NULL: no limit


class ContactView(msgspec.Struct):
    id: str
    customer_id: str
    name: str
    title: str | None
    phone: str | None  # NULL: empty, or hidden from the caller (sales.view_contact_details)
    email: str | None  # likewise
    active: bool
    field_versions: dict[str, int]
    hidden_fields: list[str]


class LeadView(msgspec.Struct):
    id: str
    site_id: str
    name: str
    contact_name: str | None
    phone: str | None  # NULL: empty, or hidden from the caller (sales.view_contact_details)
    source: str | None
    status: str
    note: str | None
    created_at: datetime
    created_by: str | None
    decided_at: datetime | None
    lost_reason: str | None
    opportunity_id: str | None
    hidden_fields: list[str]


class OpportunityView(msgspec.Struct):
    id: str
    site_id: str
    customer_id: str
    lead_id: str | None
    title: str
    expected_value: Decimal
    expected_close: date | None
    status: str
    note: str | None
    created_at: datetime
    decided_at: datetime | None
    lost_reason: str | None


class QuotationLineView(msgspec.Struct):
    id: str
    line_no: int
    item_id: str
    quantity: Decimal
    unit_price: Decimal
    value: Decimal


class QuotationView(msgspec.Struct):
    id: str
    site_id: str
    number: str
    customer_id: str
    opportunity_id: str | None
    status: str
    valid_until: date
    note: str | None
    created_at: datetime
    created_by: str | None
    sent_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    reject_reason: str | None
    sales_order_id: str | None  # the order it became
    total: Decimal
    lines: list[QuotationLineView]


class OrderLineView(msgspec.Struct):
    id: str
    line_no: int
    item_id: str
    quantity: Decimal
    unit_price: Decimal
    delivered_quantity: Decimal
    returned_quantity: Decimal
    backorder_quantity: Decimal  # still to deliver: ordered − delivered, never below 0
    reserved_quantity: Decimal  # held at the site for this line now


class DeliveryView(msgspec.Struct):
    id: str
    kind: str  # delivery | return
    order_line_id: str
    move_id: str
    location_id: str
    quantity: Decimal
    occurred_at: datetime
    device_id: str | None
    user_name: str | None


class SalesOrderView(msgspec.Struct):
    id: str
    site_id: str
    number: str
    customer_id: str
    status: str
    quotation_id: str | None
    requested_at: datetime | None
    note: str | None
    created_at: datetime
    created_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    cancel_reason: str | None
    total: Decimal
    lines: list[OrderLineView]
    deliveries: list[DeliveryView] = []
    provisional_number: str | None = None  # what a branch device showed, if the server renumbered it


class BackorderView(msgspec.Struct):
    """A line of a confirmed or partially delivered order with goods still to deliver."""

    order_id: str
    order_number: str
    site_id: str
    customer_id: str
    customer_name: str
    order_line_id: str
    line_no: int
    item_id: str
    sku: str
    ordered: Decimal
    delivered: Decimal
    backorder: Decimal
    value: Decimal  # backorder × unit price
    requested_at: datetime | None


class ReservationView(msgspec.Struct):
    order_line_id: str
    site_id: str
    order_id: str
    order_number: str
    item_id: str
    sku: str
    quantity: Decimal
    status: str
    released_reason: str | None
    reserved_at: datetime
    released_at: datetime | None


class SalesByCustomerView(msgspec.Struct):
    customer_id: str
    code: str
    name: str
    delivered_value: Decimal
    returned_value: Decimal
    net_value: Decimal


class SalesByItemView(msgspec.Struct):
    item_id: str
    sku: str
    name: str
    delivered_quantity: Decimal
    returned_quantity: Decimal
    net_quantity: Decimal
    net_value: Decimal


class SalesExceptionView(msgspec.Struct):
    id: str
    site_id: str
    kind: str
    order_id: str
    order_line_id: str
    delivery_id: str
    quantity: Decimal
    involved: dict
    status: str
    raised_at: datetime
    review_note: str | None


def _hidden(fields: dict[str, str], grants: Iterable[str]) -> list[str]:
    grants = tuple(grants)
    return sorted(name for name, permission in fields.items() if not allowed(grants, permission))


# -- customers, contacts ---------------------------------------------------------------------


def _customer(r) -> CustomerView:
    return CustomerView(r.id, r.code, r.name, r.address, r.credit_limit, bool(r.active), msgspec.json.decode(r._fv))


def list_customers(conn: Connection, *, active: bool | None = None, limit: int = 100,
                   after: str | None = None) -> list[CustomerView]:
    """Customers by code (keyset: ``after`` = the last code seen)."""
    query = select(customers).order_by(customers.c.code).limit(limit)
    if active is not None:
        query = query.where(customers.c.active == active)
    if after:
        query = query.where(customers.c.code > after)
    return [_customer(r) for r in conn.execute(query)]


def get_customer(conn: Connection, customer_id: str) -> CustomerView | None:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).first()
    return None if row is None else _customer(row)


def customer_credit(conn: Connection, customer_id: str) -> CreditView | None:
    customer = get_customer(conn, customer_id)
    if customer is None:
        return None
    used = open_order_value(conn, customer_id)
    limit = customer.credit_limit
    return CreditView(customer_id, limit, used, None if limit is None else limit - used)


def list_contacts(conn: Connection, customer_id: str, *, grants: Iterable[str]) -> list[ContactView]:
    hidden = _hidden(CONTACT_FIELDS, grants)
    # Hidden columns are not even read, so they never reach this process.
    columns = [column for column in customer_contacts.columns if column.name not in hidden]
    rows = conn.execute(select(*columns).where(customer_contacts.c.customer_id == customer_id)
                        .order_by(customer_contacts.c.name, customer_contacts.c.id))
    return [ContactView(r.id, r.customer_id, r.name, r.title, None if "phone" in hidden else r.phone,
                        None if "email" in hidden else r.email, bool(r.active), msgspec.json.decode(r._fv), hidden)
            for r in rows]


# -- leads, opportunities --------------------------------------------------------------------


def list_leads(conn: Connection, *, grants: Iterable[str], site_id: str | None, status: str | None,
               limit: int = 100, after: str | None = None, lead_id: str | None = None) -> list[LeadView]:
    hidden = _hidden(LEAD_FIELDS, grants)
    columns = [column for column in leads.columns if column.name not in hidden]
    query = select(*columns).order_by(leads.c.id).limit(limit)
    if lead_id:
        query = query.where(leads.c.id == lead_id)
    if site_id:
        query = query.where(leads.c.site_id == site_id)
    if status:
        query = query.where(leads.c.status == status)
    if after:
        query = query.where(leads.c.id > after)
    return [LeadView(r.id, r.site_id, r.name, r.contact_name, None if "phone" in hidden else r.phone, r.source,
                     r.status, r.note, r.created_at, r.created_by, r.decided_at, r.lost_reason, r.opportunity_id,
                     hidden) for r in conn.execute(query)]


def list_opportunities(conn: Connection, *, site_id: str | None, status: str | None, customer_id: str | None,
                       limit: int = 100, after: str | None = None,
                       opportunity_id: str | None = None) -> list[OpportunityView]:
    query = select(opportunities).order_by(opportunities.c.id).limit(limit)
    if opportunity_id:
        query = query.where(opportunities.c.id == opportunity_id)
    if site_id:
        query = query.where(opportunities.c.site_id == site_id)
    if status:
        query = query.where(opportunities.c.status == status)
    if customer_id:
        query = query.where(opportunities.c.customer_id == customer_id)
    if after:
        query = query.where(opportunities.c.id > after)
    return [OpportunityView(r.id, r.site_id, r.customer_id, r.lead_id, r.title, r.expected_value,
                            date.fromisoformat(r.expected_close) if r.expected_close else None, r.status, r.note,
                            r.created_at, r.decided_at, r.lost_reason) for r in conn.execute(query)]


# -- quotations ------------------------------------------------------------------------------


def _quotations(conn: Connection, rows) -> list[QuotationView]:
    rows = list(rows)
    lines: dict[str, list[QuotationLineView]] = {row.id: [] for row in rows}
    if rows:
        for line in conn.execute(select(quotation_lines).where(quotation_lines.c.quotation_id.in_(list(lines)))
                                 .order_by(quotation_lines.c.quotation_id, quotation_lines.c.line_no)):
            lines[line.quotation_id].append(QuotationLineView(line.id, line.line_no, line.item_id, line.quantity,
                                                              line.unit_price, line.quantity * line.unit_price))
    return [QuotationView(r.id, r.site_id, r.number, r.customer_id, r.opportunity_id, r.status,
                          date.fromisoformat(r.valid_until), r.note, r.created_at, r.created_by, r.sent_at,
                          r.decided_at, r.decided_by, r.reject_reason, r.sales_order_id,
                          sum((line.value for line in lines[r.id]), ZERO), lines[r.id]) for r in rows]


def list_quotations(conn: Connection, *, site_id: str | None, status: str | None, customer_id: str | None,
                    limit: int = 100, after: str | None = None) -> list[QuotationView]:
    query = select(quotations).order_by(quotations.c.id).limit(limit)
    if site_id:
        query = query.where(quotations.c.site_id == site_id)
    if status:
        query = query.where(quotations.c.status == status)
    if customer_id:
        query = query.where(quotations.c.customer_id == customer_id)
    if after:
        query = query.where(quotations.c.id > after)
    return _quotations(conn, conn.execute(query))


def get_quotation(conn: Connection, quotation_id: str) -> QuotationView | None:
    found = _quotations(conn, conn.execute(select(quotations).where(quotations.c.id == quotation_id)))
    return found[0] if found else None


# -- sales orders ----------------------------------------------------------------------------


def _orders(conn: Connection, rows, *, with_deliveries: bool = False) -> list[SalesOrderView]:
    rows = list(rows)
    ids = [row.id for row in rows]
    lines: dict[str, list[OrderLineView]] = {order_id: [] for order_id in ids}
    deliveries: dict[str, list[DeliveryView]] = {order_id: [] for order_id in ids}
    if ids:
        reserved = {r.order_line_id: r.quantity for r in conn.execute(
            select(stock_reservations.c.order_line_id, stock_reservations.c.quantity)
            .where(stock_reservations.c.order_id.in_(ids), stock_reservations.c.status == "open"))}
        for line in conn.execute(select(sales_order_lines).where(sales_order_lines.c.order_id.in_(ids))
                                 .order_by(sales_order_lines.c.order_id, sales_order_lines.c.line_no)):
            lines[line.order_id].append(OrderLineView(
                line.id, line.line_no, line.item_id, line.quantity, line.unit_price, line.delivered_quantity,
                line.returned_quantity, max(line.quantity - line.delivered_quantity, ZERO),
                reserved.get(line.id, ZERO)))
        if with_deliveries:
            for d in conn.execute(select(so_deliveries).where(so_deliveries.c.order_id.in_(ids))
                                  .order_by(so_deliveries.c.occurred_at, so_deliveries.c.id)):
                deliveries[d.order_id].append(DeliveryView(d.id, d.kind, d.order_line_id, d.move_id, d.location_id,
                                                           d.quantity, d.occurred_at, d.device_id, d.user_name))
    return [SalesOrderView(r.id, r.site_id, r.number, r.customer_id, r.status, r.quotation_id, r.requested_at, r.note,
                           r.created_at, r.created_by, r.decided_at, r.decided_by, r.cancel_reason,
                           sum((line.quantity * line.unit_price for line in lines[r.id]), ZERO), lines[r.id],
                           deliveries[r.id], r.provisional_number) for r in rows]


def list_orders(conn: Connection, *, site_id: str | None, status: str | None, customer_id: str | None,
                open_only: bool = False, limit: int = 100, after: str | None = None) -> list[SalesOrderView]:
    """Orders by id (keyset: ``after`` = the last id seen); ``open_only``: confirmed, partially
    delivered or delivered (not yet closed)."""
    query = select(sales_orders).order_by(sales_orders.c.id).limit(limit)
    if site_id:
        query = query.where(sales_orders.c.site_id == site_id)
    if status:
        query = query.where(sales_orders.c.status == status)
    if customer_id:
        query = query.where(sales_orders.c.customer_id == customer_id)
    if open_only:
        query = query.where(sales_orders.c.status.in_(sorted(DELIVERING_STATES)))
    if after:
        query = query.where(sales_orders.c.id > after)
    return _orders(conn, conn.execute(query))


def get_order(conn: Connection, order_id: str) -> SalesOrderView | None:
    found = _orders(conn, conn.execute(select(sales_orders).where(sales_orders.c.id == order_id)),
                    with_deliveries=True)
    return found[0] if found else None


def backorders(conn: Connection, *, site_id: str | None, customer_id: str | None = None,
               item_id: str | None = None) -> list[BackorderView]:
    """Ordered − delivered on confirmed and partially delivered orders, line by line."""
    line, order = sales_order_lines, sales_orders
    query = (select(order.c.id, order.c.number, order.c.site_id, order.c.customer_id, customers.c.name,
                    order.c.requested_at, line.c.id.label("line_id"), line.c.line_no, line.c.item_id, items.c.sku,
                    line.c.quantity, line.c.delivered_quantity, line.c.unit_price)
             .join(order, order.c.id == line.c.order_id).join(customers, customers.c.id == order.c.customer_id)
             .join(items, items.c.id == line.c.item_id).where(order.c.status.in_(BACKORDER_STATES))
             .order_by(order.c.number, line.c.line_no))
    if site_id:
        query = query.where(order.c.site_id == site_id)
    if customer_id:
        query = query.where(order.c.customer_id == customer_id)
    if item_id:
        query = query.where(line.c.item_id == item_id)
    views = []
    for r in conn.execute(query):
        left = r.quantity - r.delivered_quantity
        if left > 0:
            views.append(BackorderView(r.id, r.number, r.site_id, r.customer_id, r.name, r.line_id, r.line_no,
                                       r.item_id, r.sku, r.quantity, r.delivered_quantity, left, left * r.unit_price,
                                       r.requested_at))
    return views


def list_reservations(conn: Connection, *, site_id: str | None, item_id: str | None, open_only: bool = True,
                      limit: int = 100, after: str | None = None) -> list[ReservationView]:
    """Reservations by order line id (keyset: ``after`` = the last order line id seen)."""
    res = stock_reservations
    query = (select(res, sales_orders.c.number, items.c.sku).join(sales_orders, sales_orders.c.id == res.c.order_id)
             .join(items, items.c.id == res.c.item_id).order_by(res.c.order_line_id).limit(limit))
    if site_id:
        query = query.where(res.c.site_id == site_id)
    if item_id:
        query = query.where(res.c.item_id == item_id)
    if open_only:
        query = query.where(res.c.status == "open")
    if after:
        query = query.where(res.c.order_line_id > after)
    return [ReservationView(r.order_line_id, r.site_id, r.order_id, r.number, r.item_id, r.sku, r.quantity, r.status,
                            r.released_reason, r.reserved_at, r.released_at) for r in conn.execute(query)]


def list_availability(conn: Connection, *, site_id: str, item_id: str | None = None, limit: int = 100,
                      after: str | None = None) -> list[AvailabilityView]:
    """Availability at one site of one item, or of a page of items by id (``after``: last id seen)."""
    if item_id is not None:
        page = [item_id]
    else:
        query = select(items.c.id).order_by(items.c.id).limit(limit)
        if after:
            query = query.where(items.c.id > after)
        page = list(conn.execute(query).scalars())
    if not page:
        return []
    held: dict[str, list[Decimal]] = defaultdict(list)
    reserved: dict[str, list[Decimal]] = defaultdict(list)
    for r in conn.execute(select(on_hand.c.item_id, on_hand.c.quantity)
                          .where(on_hand.c.site_id == site_id, on_hand.c.item_id.in_(page))):
        held[r.item_id].append(r.quantity)
    for r in conn.execute(select(reserved_stock.c.item_id, reserved_stock.c.quantity)
                          .where(reserved_stock.c.site_id == site_id, reserved_stock.c.item_id.in_(page))):
        reserved[r.item_id].append(r.quantity)
    return [view(site_id, item, compute(held[item], reserved[item])) for item in page]


# -- sales figures ---------------------------------------------------------------------------


def _movements(conn: Connection, *, site_id: str | None, since: datetime | None, until: datetime | None):
    d, line, order = so_deliveries, sales_order_lines, sales_orders
    query = (select(d.c.kind, d.c.quantity, line.c.unit_price, line.c.item_id, order.c.customer_id)
             .join(line, line.c.id == d.c.order_line_id).join(order, order.c.id == d.c.order_id))
    if site_id:
        query = query.where(d.c.site_id == site_id)
    if since is not None:
        query = query.where(d.c.occurred_at >= since)
    if until is not None:
        query = query.where(d.c.occurred_at < until)
    return conn.execute(query)


def sales_by_customer(conn: Connection, *, site_id: str | None, since: datetime | None,
                      until: datetime | None) -> list[SalesByCustomerView]:
    """Deliveries and returns in [since, until), valued at the order price, per customer."""
    delivered: dict[str, Decimal] = defaultdict(Decimal)
    returned: dict[str, Decimal] = defaultdict(Decimal)
    for r in _movements(conn, site_id=site_id, since=since, until=until):
        (delivered if r.kind == "delivery" else returned)[r.customer_id] += r.quantity * r.unit_price
    ids = sorted(set(delivered) | set(returned))
    names = {r.id: r for r in conn.execute(select(customers.c.id, customers.c.code, customers.c.name)
                                           .where(customers.c.id.in_(ids)))} if ids else {}
    views = [SalesByCustomerView(c, names[c].code, names[c].name, delivered[c], returned[c], delivered[c] - returned[c])
             for c in ids]
    return sorted(views, key=lambda v: (-v.net_value, v.code))


def sales_by_item(conn: Connection, *, site_id: str | None, since: datetime | None,
                  until: datetime | None) -> list[SalesByItemView]:
    """Quantities delivered and returned in [since, until), and their net value, per item."""
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])  # delivered, returned, net value
    for r in _movements(conn, site_id=site_id, since=since, until=until):
        sign = 1 if r.kind == "delivery" else -1
        total = totals[r.item_id]
        total[0 if sign > 0 else 1] += r.quantity
        total[2] += sign * r.quantity * r.unit_price
    ids = sorted(totals)
    found = {r.id: r for r in conn.execute(select(items.c.id, items.c.sku, items.c.name)
                                           .where(items.c.id.in_(ids)))} if ids else {}
    views = [SalesByItemView(i, found[i].sku, found[i].name, totals[i][0], totals[i][1], totals[i][0] - totals[i][1],
                             totals[i][2]) for i in ids]
    return sorted(views, key=lambda v: (-v.net_value, v.sku))


def list_exceptions(conn: Connection, *, site_id: str | None, status: str | None) -> list[SalesExceptionView]:
    query = select(sales_exceptions).order_by(sales_exceptions.c.raised_at, sales_exceptions.c.id)
    if site_id:
        query = query.where(sales_exceptions.c.site_id == site_id)
    if status:
        query = query.where(sales_exceptions.c.status == status)
    return [SalesExceptionView(r.id, r.site_id, r.kind, r.order_id, r.order_line_id, r.delivery_id, r.quantity,
                               msgspec.json.decode(r.involved_json), r.status, r.raised_at, r.review_note)
            for r in conn.execute(query)]
