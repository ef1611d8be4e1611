"""Read models of the service module for the HQ API: plain functions over a Connection.

They return msgspec structs, so the HTTP layer only serializes. A ticket comes with its visits
in the order they happened; lists are paginated by keyset (``after`` = the last id seen).
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from sqlalchemy import Connection, select

from erp.sales.customer import customers
from erp.service.ticket import service_tickets, short_ref
from erp.service.visit import service_visits
from erp.service.warranty import days_left


class VisitView(msgspec.Struct):
    id: str
    visited_at: datetime
    technician: str
    work_done: str
    outcome: str
    device_id: str | None
    user_name: str | None


class TicketView(msgspec.Struct):
    id: str
    ref: str  # how people name it: the last 8 characters of the id
    site_id: str
    customer_id: str
    customer_name: str
    contact_id: str | None
    item_id: str | None
    serial_no: str | None
    sales_order_id: str | None
    complaint: str
    status: str
    opened_at: datetime
    opened_by: str | None
    warranty_until: date | None
    under_warranty: bool  # when the complaint came in
    warranty_days_left: int | None  # from today in Wuhan; negative once over
    assigned_to: str | None
    resolved_at: datetime | None
    resolution: str | None
    closed_at: datetime | None
    visits: list[VisitView]
    number: str | None = None  # ST-BR1-0001234 (erp/org/number_series.py)
    provisional_number: str | None = None  # the number the device showed, if the server replaced it


def _tickets(conn: Connection, rows, today: date) -> list[TicketView]:
    rows = list(rows)
    visits: dict[str, list[VisitView]] = {row.id: [] for row in rows}
    if rows:
        for v in conn.execute(select(service_visits).where(service_visits.c.ticket_id.in_(list(visits)))
                              .order_by(service_visits.c.visited_at, service_visits.c.id)):
            visits[v.ticket_id].append(VisitView(v.id, v.visited_at, v.technician, v.work_done, v.outcome,
                                                 v.device_id, v.user_name))
    views = []
    for r in rows:
        until = date.fromisoformat(r.warranty_until) if r.warranty_until else None
        views.append(TicketView(r.id, short_ref(r.id), r.site_id, r.customer_id, r.name, r.contact_id, r.item_id,
                                r.serial_no, r.sales_order_id, r.complaint, r.status, r.opened_at, r.opened_by, until,
                                bool(r.under_warranty), days_left(until, today), r.assigned_to, r.resolved_at,
                                r.resolution, r.closed_at, visits[r.id], r.number, r.provisional_number))
    return views


def _select():
    return select(service_tickets, customers.c.name).join(customers, customers.c.id == service_tickets.c.customer_id)


def list_tickets(conn: Connection, *, today: date, site_id: str | None, status: str | None,
                 customer_id: str | None, limit: int = 100, after: str | None = None) -> list[TicketView]:
    query = _select().order_by(service_tickets.c.id).limit(limit)
    if site_id:
        query = query.where(service_tickets.c.site_id == site_id)
    if status:
        query = query.where(service_tickets.c.status == status)
    if customer_id:
        query = query.where(service_tickets.c.customer_id == customer_id)
    if after:
        query = query.where(service_tickets.c.id > after)
    return _tickets(conn, conn.execute(query), today)


def get_ticket(conn: Connection, ticket_id: str, *, today: date) -> TicketView | None:
    found = _tickets(conn, conn.execute(_select().where(service_tickets.c.id == ticket_id)), today)
    return found[0] if found else None
