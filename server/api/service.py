"""HQ API for after-sales service: tickets and their visits.

Writes run the module's own mutations (``HqCommands``), the same a branch office's device runs
offline; reads call ``erp.service.queries``. A user bound to a site sees and changes that
site's tickets only.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter

from erp.sales.business_day import business_date
from erp.service import queries
from erp.service.queries import TicketView
from erp.service.ticket import AssignTicket, CloseTicket, OpenTicket, ReopenTicket, ResolveTicket
from erp.service.visit import RecordVisit
from server.api.sales import DEPENDENCIES
from server.auth.guard import site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands
from sync.errors import NotFound
from sync.ids import new_id

Limit = Annotated[int, Parameter(ge=1, le=1000)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]


class NewTicket(msgspec.Struct):
    site_id: str
    customer_id: str
    complaint: str
    opened_at: Moment | None = None  # default now
    contact_id: str | None = None
    item_id: str | None = None
    serial_no: str | None = None
    sales_order_id: str | None = None
    warranty_until: date | None = None
    warranty_months: int = 12
    id: str | None = None


class Assignment(msgspec.Struct):
    technician: str


class NewVisit(msgspec.Struct):
    technician: str
    work_done: str
    outcome: str = "fixed"
    visited_at: Moment | None = None  # default now
    id: str | None = None


class Resolution(msgspec.Struct):
    resolution: str


class Reopening(msgspec.Struct):
    reason: str = ""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _today() -> date:
    return business_date(_now())


class ServiceController(Controller):
    path = "/api/v1"
    tags = ["service"]
    dependencies = DEPENDENCIES

    @get("/service-tickets", opt={"permission": "service.view"})
    async def list_tickets(self, db: Database, principal: Principal, site_id: str | None = None,
                           status: str | None = None, customer_id: str | None = None, limit: Limit = 100,
                           after: str | None = None) -> list[TicketView]:
        """Tickets by id with their visits (``after`` = the last id seen)."""
        return await db.read(queries.list_tickets, today=_today(), site_id=site_in_scope(principal, site_id),
                             status=status, customer_id=customer_id, limit=limit, after=after)

    @get("/service-tickets/{ticket_id:str}", opt={"permission": "service.view"})
    async def get_ticket(self, ticket_id: str, db: Database, principal: Principal) -> TicketView:
        return await self._ticket(ticket_id, db, principal)

    @post("/service-tickets", opt={"permission": "service.open_ticket"})
    async def open_ticket(self, data: NewTicket, hq: HqCommands, db: Database, principal: Principal) -> TicketView:
        ticket_id = data.id or new_id()
        await hq.run("service.open_ticket", OpenTicket(
            ticket_id=ticket_id, site_id=data.site_id, customer_id=data.customer_id, complaint=data.complaint,
            opened_at=data.opened_at or _now(), contact_id=data.contact_id, item_id=data.item_id,
            serial_no=data.serial_no, sales_order_id=data.sales_order_id, warranty_until=data.warranty_until,
            warranty_months=data.warranty_months))
        return await self._ticket(ticket_id, db, principal)

    @post("/service-tickets/{ticket_id:str}/assign", status_code=200, opt={"permission": "service.assign_ticket"})
    async def assign(self, ticket_id: str, data: Assignment, hq: HqCommands, db: Database,
                     principal: Principal) -> TicketView:
        await self._ticket(ticket_id, db, principal)
        await hq.run("service.assign_ticket", AssignTicket(ticket_id, data.technician))
        return await self._ticket(ticket_id, db, principal)

    @post("/service-tickets/{ticket_id:str}/visits", opt={"permission": "service.record_visit"})
    async def visit(self, ticket_id: str, data: NewVisit, hq: HqCommands, db: Database,
                    principal: Principal) -> TicketView:
        await self._ticket(ticket_id, db, principal)
        await hq.run("service.record_visit", RecordVisit(data.id or new_id(), ticket_id, data.visited_at or _now(),
                                                         data.technician, data.work_done, data.outcome))
        return await self._ticket(ticket_id, db, principal)

    @post("/service-tickets/{ticket_id:str}/resolve", status_code=200, opt={"permission": "service.resolve_ticket"})
    async def resolve(self, ticket_id: str, data: Resolution, hq: HqCommands, db: Database,
                      principal: Principal) -> TicketView:
        await self._ticket(ticket_id, db, principal)
        await hq.run("service.resolve_ticket", ResolveTicket(ticket_id, data.resolution))
        return await self._ticket(ticket_id, db, principal)

    @post("/service-tickets/{ticket_id:str}/reopen", status_code=200, opt={"permission": "service.reopen_ticket"})
    async def reopen(self, ticket_id: str, data: Reopening, hq: HqCommands, db: Database,
                     principal: Principal) -> TicketView:
        await self._ticket(ticket_id, db, principal)
        await hq.run("service.reopen_ticket", ReopenTicket(ticket_id, data.reason))
        return await self._ticket(ticket_id, db, principal)

    @post("/service-tickets/{ticket_id:str}/close", status_code=200, opt={"permission": "service.close_ticket"})
    async def close(self, ticket_id: str, hq: HqCommands, db: Database, principal: Principal) -> TicketView:
        await self._ticket(ticket_id, db, principal)
        await hq.run("service.close_ticket", CloseTicket(ticket_id))
        return await self._ticket(ticket_id, db, principal)

    @staticmethod
    async def _ticket(ticket_id: str, db: Database, principal: Principal) -> TicketView:
        ticket = await db.read(queries.get_ticket, ticket_id, today=_today())
        if ticket is None:
            raise NotFound("no such service ticket", ticket_id=ticket_id)
        site_in_scope(principal, ticket.site_id)
        return ticket


CONTROLLERS = [ServiceController]
