"""HQ API for sales orders: the orders, their deliveries and returns, reservations, availability,
backorders, sales figures and the exceptions deliveries raise.

Writes run the module's own mutations (``HqCommands``), the same a dock tablet runs; reads call
``erp.sales.queries`` and ``erp.sales.availability``. A user bound to a site sees and changes
that site's orders only, and reads its figures only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter

from erp.sales import queries
from erp.sales.availability import AvailabilityView
from erp.sales.delivery import DeliverSalesOrder, ReturnFromCustomer
from erp.sales.queries import (
    BackorderView, ReservationView, SalesByCustomerView, SalesByItemView, SalesExceptionView, SalesOrderView,
)
from erp.sales.sales_exception import ReviewSalesException
from erp.sales.sales_order import CancelSalesOrder, CloseSalesOrder, ConfirmSalesOrder, CreateSalesOrder, NewLine
from server.api.sales import DEPENDENCIES, NewDocumentLine
from server.auth.guard import site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands
from sync.errors import JcerpError, NotFound
from sync.ids import new_id

Limit = Annotated[int, Parameter(ge=1, le=1000)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]


class NewSalesOrder(msgspec.Struct):
    site_id: str  # the shipping site
    number: str
    customer_id: str
    lines: list[NewDocumentLine]
    requested_at: Moment | None = None
    note: str | None = None
    id: str | None = None


class Cancellation(msgspec.Struct):
    reason: str = ""


class GoodsMovement(msgspec.Struct):
    """A delivery or a return against one line; ``occurred_at`` defaults to now."""

    order_line_id: str
    location_id: str
    quantity: Decimal
    occurred_at: Moment | None = None
    id: str | None = None


class Review(msgspec.Struct):
    note: str = ""


class SiteRequired(JcerpError):
    code = "sales.site_required"
    http_status = 400


def _when(moment: datetime | None) -> datetime:
    return datetime.now(timezone.utc) if moment is None else moment


class SalesOrderController(Controller):
    path = "/api/v1"
    tags = ["sales"]
    dependencies = DEPENDENCIES

    @get("/sales-orders", opt={"permission": "sales.view"})
    async def list_orders(self, db: Database, principal: Principal, site_id: str | None = None,
                          status: str | None = None, customer_id: str | None = None, open: bool = False,
                          limit: Limit = 100, after: str | None = None) -> list[SalesOrderView]:
        """Orders by id; ``open=true``: confirmed, partially delivered or delivered (not yet closed)."""
        return await db.read(queries.list_orders, site_id=site_in_scope(principal, site_id), status=status,
                             customer_id=customer_id, open_only=open, limit=limit, after=after)

    @get("/sales-orders/{order_id:str}", opt={"permission": "sales.view"})
    async def get_order(self, order_id: str, db: Database, principal: Principal) -> SalesOrderView:
        """One order with its lines (ordered, delivered, returned, backorder, reserved) and deliveries."""
        return await self._order(order_id, db, principal)

    @post("/sales-orders", opt={"permission": "sales.create_order"})
    async def create_order(self, data: NewSalesOrder, hq: HqCommands, db: Database,
                           principal: Principal) -> SalesOrderView:
        order_id = data.id or new_id()
        await hq.run("sales.create_order", CreateSalesOrder(
            order_id=order_id, site_id=data.site_id, number=data.number, customer_id=data.customer_id,
            lines=[NewLine(line.id or new_id(), line.item_id, line.quantity, line.unit_price) for line in data.lines],
            requested_at=data.requested_at, note=data.note))
        return await self._order(order_id, db, principal)

    @post("/sales-orders/{order_id:str}/confirm", status_code=200, opt={"permission": "sales.confirm_order"})
    async def confirm(self, order_id: str, hq: HqCommands, db: Database, principal: Principal) -> SalesOrderView:
        """Confirm within the customer's credit limit (422 ``sales.credit_limit_exceeded`` with the
        figures otherwise) and reserve the order's stock at its site."""
        await self._order(order_id, db, principal)
        await hq.run("sales.confirm_order", ConfirmSalesOrder(order_id))
        return await self._order(order_id, db, principal)

    @post("/sales-orders/{order_id:str}/cancel", status_code=200, opt={"permission": "sales.cancel_order"})
    async def cancel(self, order_id: str, data: Cancellation, hq: HqCommands, db: Database,
                     principal: Principal) -> SalesOrderView:
        await self._order(order_id, db, principal)
        await hq.run("sales.cancel_order", CancelSalesOrder(order_id, data.reason))
        return await self._order(order_id, db, principal)

    @post("/sales-orders/{order_id:str}/close", status_code=200, opt={"permission": "sales.close_order"})
    async def close(self, order_id: str, hq: HqCommands, db: Database, principal: Principal) -> SalesOrderView:
        await self._order(order_id, db, principal)
        await hq.run("sales.close_order", CloseSalesOrder(order_id))
        return await self._order(order_id, db, principal)

    @post("/sales-orders/{order_id:str}/deliveries", opt={"permission": "sales.deliver"})
    async def deliver(self, order_id: str, data: GoodsMovement, hq: HqCommands, db: Database,
                      principal: Principal) -> SalesOrderView:
        await self._line_of(order_id, data.order_line_id, db, principal)
        await hq.run("sales.deliver", DeliverSalesOrder(
            delivery_id=data.id or new_id(), move_id=new_id(), order_line_id=data.order_line_id,
            location_id=data.location_id, quantity=data.quantity, occurred_at=_when(data.occurred_at)))
        return await self._order(order_id, db, principal)

    @post("/sales-orders/{order_id:str}/returns", opt={"permission": "sales.return_from_customer"})
    async def return_goods(self, order_id: str, data: GoodsMovement, hq: HqCommands, db: Database,
                           principal: Principal) -> SalesOrderView:
        await self._line_of(order_id, data.order_line_id, db, principal)
        await hq.run("sales.return_from_customer", ReturnFromCustomer(
            return_id=data.id or new_id(), move_id=new_id(), order_line_id=data.order_line_id,
            location_id=data.location_id, quantity=data.quantity, occurred_at=_when(data.occurred_at)))
        return await self._order(order_id, db, principal)

    @staticmethod
    async def _order(order_id: str, db: Database, principal: Principal) -> SalesOrderView:
        order = await db.read(queries.get_order, order_id)
        if order is None:
            raise NotFound("no such sales order", order_id=order_id)
        site_in_scope(principal, order.site_id)
        return order

    async def _line_of(self, order_id: str, line_id: str, db: Database, principal: Principal) -> None:
        order = await self._order(order_id, db, principal)
        if all(line.id != line_id for line in order.lines):
            raise NotFound("this sales order has no such line", order_id=order_id, order_line_id=line_id)


class SalesFiguresController(Controller):
    """What is promised, what is available, what was sold, and what went wrong."""

    path = "/api/v1"
    tags = ["sales"]
    dependencies = DEPENDENCIES

    @get("/sales/backorders", opt={"permission": "sales.view"})
    async def backorders(self, db: Database, principal: Principal, site_id: str | None = None,
                         customer_id: str | None = None, item_id: str | None = None) -> list[BackorderView]:
        """Ordered − delivered on confirmed and partially delivered orders, line by line, valued."""
        return await db.read(queries.backorders, site_id=site_in_scope(principal, site_id), customer_id=customer_id,
                             item_id=item_id)

    @get("/sales/reservations", opt={"permission": "sales.view"})
    async def reservations(self, db: Database, principal: Principal, site_id: str | None = None,
                           item_id: str | None = None, open: bool = True, limit: Limit = 100,
                           after: str | None = None) -> list[ReservationView]:
        """Reservations by order line; ``open=false`` includes released ones (with why and when)."""
        return await db.read(queries.list_reservations, site_id=site_in_scope(principal, site_id), item_id=item_id,
                             open_only=open, limit=limit, after=after)

    @get("/sales/availability", opt={"permission": "sales.view"})
    async def availability(self, db: Database, principal: Principal, site_id: str | None = None,
                           item_id: str | None = None, limit: Limit = 100,
                           after: str | None = None) -> list[AvailabilityView]:
        """On-hand − reserved at one site: of ``item_id``, or of a page of items by id."""
        site = site_in_scope(principal, site_id)
        if site is None:
            raise SiteRequired("availability is per site: name one with site_id")
        return await db.read(queries.list_availability, site_id=site, item_id=item_id, limit=limit, after=after)

    @get("/sales/by-customer", opt={"permission": "sales.view"})
    async def by_customer(self, db: Database, principal: Principal, site_id: str | None = None,
                          since: datetime | None = None, until: datetime | None = None) -> list[SalesByCustomerView]:
        """Delivered − returned in [since, until), at the order prices, per customer, largest first."""
        return await db.read(queries.sales_by_customer, site_id=site_in_scope(principal, site_id), since=since,
                             until=until)

    @get("/sales/by-item", opt={"permission": "sales.view"})
    async def by_item(self, db: Database, principal: Principal, site_id: str | None = None,
                      since: datetime | None = None, until: datetime | None = None) -> list[SalesByItemView]:
        """Quantities delivered and returned in [since, until), and their net value, per item."""
        return await db.read(queries.sales_by_item, site_id=site_in_scope(principal, site_id), since=since,
                             until=until)

    @get("/sales-exceptions", opt={"permission": "sales.view"})
    async def exceptions(self, db: Database, principal: Principal, site_id: str | None = None,
                         status: str | None = None) -> list[SalesExceptionView]:
        return await db.read(queries.list_exceptions, site_id=site_in_scope(principal, site_id), status=status)

    @post("/sales-exceptions/{exception_id:str}/review", status_code=200,
          opt={"permission": "sales.review_exception"})
    async def review(self, exception_id: str, data: Review, hq: HqCommands) -> dict:
        await hq.run("sales.review_exception", ReviewSalesException(exception_id, data.note))
        return {"id": exception_id, "status": "reviewed"}


CONTROLLERS = [SalesOrderController, SalesFiguresController]
