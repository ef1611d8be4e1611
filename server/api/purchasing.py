"""HQ API for purchasing: suppliers, purchase orders, receipts and returns, the buyer's exceptions.

Writes run the module's own mutations (``HqCommands``), the same a tablet runs; reads call
``erp.purchasing.queries``. A user bound to a site sees and changes that site's orders only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter

from erp.purchasing import queries
from erp.purchasing.goods_receipt import ReceivePurchaseOrder, ReturnToSupplier
from erp.purchasing.purchase_order import (
    ApprovePurchaseOrder, CancelPurchaseOrder, ClosePurchaseOrder, CreatePurchaseOrder, NewLine,
)
from erp.purchasing.purchasing_exception import ReviewPurchasingException
from erp.purchasing.queries import GrniView, PurchaseOrderView, PurchasingExceptionView, SupplierView
from erp.purchasing.supplier import CreateSupplier, UpdateSupplier
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands, provide_db, provide_hq
from sync.context import Edit
from sync.errors import NotFound
from sync.ids import new_id

Limit = Annotated[int, Parameter(ge=1, le=1000)]


class NewSupplier(msgspec.Struct):
    code: str
    name: str
    contact: str | None = None
    id: str | None = None


class SupplierEdit(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields to change, each with the field version it was based on."""

    name: Edit[str] | None = None
    contact: Edit[str | None] | None = None
    active: Edit[bool] | None = None


class NewOrderLine(msgspec.Struct):
    item_id: str
    quantity: Decimal
    unit_price: Decimal
    id: str | None = None


class NewPurchaseOrder(msgspec.Struct):
    site_id: str
    number: str
    supplier_id: str
    lines: list[NewOrderLine]
    over_receipt_tolerance: Decimal = Decimal(0)  # percent
    expected_at: datetime | None = None
    note: str | None = None
    id: str | None = None


class Cancellation(msgspec.Struct):
    reason: str = ""


class GoodsMovement(msgspec.Struct):
    """A receipt or a return against one line; ``occurred_at`` defaults to now."""

    po_line_id: str
    location_id: str
    quantity: Decimal
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    id: str | None = None


class Review(msgspec.Struct):
    note: str = ""


class PurchasingController(Controller):
    path = "/api/v1"
    tags = ["purchasing"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/suppliers", opt={"permission": "purchasing.view"})
    async def list_suppliers(self, db: Database) -> list[SupplierView]:
        return await db.read(queries.list_suppliers)

    @post("/suppliers", opt={"permission": "purchasing.create_supplier"})
    async def create_supplier(self, data: NewSupplier, hq: HqCommands, db: Database) -> SupplierView:
        supplier_id = data.id or new_id()
        await hq.run("purchasing.create_supplier", CreateSupplier(supplier_id, data.code, data.name, data.contact))
        return next(s for s in await db.read(queries.list_suppliers) if s.id == supplier_id)

    @patch("/suppliers/{supplier_id:str}", opt={"permission": "purchasing.update_supplier"})
    async def edit_supplier(self, supplier_id: str, data: SupplierEdit, hq: HqCommands) -> dict:
        found = await hq.run("purchasing.update_supplier", UpdateSupplier(supplier_id, data.name, data.contact,
                                                                           data.active))
        return {"id": supplier_id, "conflicts": [{"field": c.field, "yours": c.device_value,
                                                  "current": c.server_value, "kept": c.kept} for c in found]}

    @get("/purchase-orders", opt={"permission": "purchasing.view"})
    async def list_orders(self, db: Database, principal: Principal, site_id: str | None = None,
                          status: str | None = None, supplier_id: str | None = None, open: bool = False,
                          limit: Limit = 100, after: str | None = None) -> list[PurchaseOrderView]:
        """Orders by id; ``open=true``: approved or partially received (still expecting goods)."""
        return await db.read(queries.list_purchase_orders, site_id=site_in_scope(principal, site_id), status=status,
                             supplier_id=supplier_id, open_only=open, limit=limit, after=after)

    @get("/purchase-orders/{po_id:str}", opt={"permission": "purchasing.view"})
    async def get_order(self, po_id: str, db: Database, principal: Principal) -> PurchaseOrderView:
        """One order with its lines (ordered, received, returned, invoiced, open) and receipts."""
        return await self._order(po_id, db, principal)

    @post("/purchase-orders", opt={"permission": "purchasing.create_po"})
    async def create_order(self, data: NewPurchaseOrder, hq: HqCommands, db: Database,
                           principal: Principal) -> PurchaseOrderView:
        po_id = data.id or new_id()
        await hq.run("purchasing.create_po", CreatePurchaseOrder(
            po_id=po_id, site_id=data.site_id, number=data.number, supplier_id=data.supplier_id,
            lines=[NewLine(line.id or new_id(), line.item_id, line.quantity, line.unit_price) for line in data.lines],
            over_receipt_tolerance=data.over_receipt_tolerance, expected_at=data.expected_at, note=data.note))
        return await self._order(po_id, db, principal)

    @post("/purchase-orders/{po_id:str}/approve", status_code=200, opt={"permission": "purchasing.approve_po"})
    async def approve(self, po_id: str, hq: HqCommands, db: Database, principal: Principal) -> PurchaseOrderView:
        await self._order(po_id, db, principal)
        await hq.run("purchasing.approve_po", ApprovePurchaseOrder(po_id))
        return await self._order(po_id, db, principal)

    @post("/purchase-orders/{po_id:str}/cancel", status_code=200, opt={"permission": "purchasing.cancel_po"})
    async def cancel(self, po_id: str, data: Cancellation, hq: HqCommands, db: Database,
                     principal: Principal) -> PurchaseOrderView:
        await self._order(po_id, db, principal)
        await hq.run("purchasing.cancel_po", CancelPurchaseOrder(po_id, data.reason))
        return await self._order(po_id, db, principal)

    @post("/purchase-orders/{po_id:str}/close", status_code=200, opt={"permission": "purchasing.close_po"})
    async def close(self, po_id: str, hq: HqCommands, db: Database, principal: Principal) -> PurchaseOrderView:
        await self._order(po_id, db, principal)
        await hq.run("purchasing.close_po", ClosePurchaseOrder(po_id))
        return await self._order(po_id, db, principal)

    @post("/purchase-orders/{po_id:str}/receipts", opt={"permission": "purchasing.receive_po"})
    async def receive(self, po_id: str, data: GoodsMovement, hq: HqCommands, db: Database,
                      principal: Principal) -> PurchaseOrderView:
        await self._line_of(po_id, data.po_line_id, db, principal)
        await hq.run("purchasing.receive_po", ReceivePurchaseOrder(
            receipt_id=data.id or new_id(), move_id=new_id(), po_line_id=data.po_line_id,
            location_id=data.location_id, quantity=data.quantity, occurred_at=_when(data.occurred_at)))
        return await self._order(po_id, db, principal)

    @post("/purchase-orders/{po_id:str}/returns", opt={"permission": "purchasing.return_to_supplier"})
    async def return_goods(self, po_id: str, data: GoodsMovement, hq: HqCommands, db: Database,
                           principal: Principal) -> PurchaseOrderView:
        await self._line_of(po_id, data.po_line_id, db, principal)
        await hq.run("purchasing.return_to_supplier", ReturnToSupplier(
            return_id=data.id or new_id(), move_id=new_id(), po_line_id=data.po_line_id,
            location_id=data.location_id, quantity=data.quantity, occurred_at=_when(data.occurred_at)))
        return await self._order(po_id, db, principal)

    @get("/purchasing/received-not-invoiced", opt={"permission": "purchasing.view"})
    async def received_not_invoiced(self, db: Database, principal: Principal,
                                    site_id: str | None = None) -> list[GrniView]:
        """Goods received but not yet invoiced, per order line, valued at the order price."""
        return await db.read(queries.received_not_invoiced, site_id=site_in_scope(principal, site_id))

    @get("/purchasing-exceptions", opt={"permission": "purchasing.view"})
    async def exceptions(self, db: Database, principal: Principal, site_id: str | None = None,
                         status: str | None = None) -> list[PurchasingExceptionView]:
        return await db.read(queries.list_exceptions, site_id=site_in_scope(principal, site_id), status=status)

    @post("/purchasing-exceptions/{exception_id:str}/review", status_code=200,
          opt={"permission": "purchasing.review_exception"})
    async def review(self, exception_id: str, data: Review, hq: HqCommands) -> dict:
        await hq.run("purchasing.review_exception", ReviewPurchasingException(exception_id, data.note))
        return {"id": exception_id, "status": "reviewed"}

    @staticmethod
    async def _order(po_id: str, db: Database, principal: Principal) -> PurchaseOrderView:
        order = await db.read(queries.get_purchase_order, po_id)
        if order is None:
            raise NotFound("no such purchase order", po_id=po_id)
        site_in_scope(principal, order.site_id)
        return order

    async def _line_of(self, po_id: str, line_id: str, db: Database, principal: Principal) -> None:
        order = await self._order(po_id, db, principal)
        if all(line.id != line_id for line in order.lines):
            raise NotFound("this purchase order has no such line", po_id=po_id, po_line_id=line_id)


def _when(moment: datetime | None) -> datetime:
    return datetime.now(timezone.utc) if moment is None else moment


CONTROLLERS = [PurchasingController]
