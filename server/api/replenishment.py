"""HQ API for replenishment: reorder points per site and item, purchase suggestions, and turning
chosen suggestions into draft purchase orders.

Reorder points are set through ``inventory.set_reorder_point``. The conversion makes one draft
order per site and supplier, each through ``purchasing.create_po`` (``HqCommands``), the
mutation a buyer's own order goes through; the drafts are then approved as any other order.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, get, post, put
from litestar.di import Provide

from erp.inventory import count_queries
from erp.inventory.count_queries import ReorderPointView
from erp.inventory.reorder_point import SetReorderPoint
from erp.purchasing import purchase_suggestion, queries
from erp.purchasing.purchase_suggestion import Choice, Suggestion
from erp.purchasing.queries import PurchaseOrderView
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands, provide_db, provide_hq
from sync.errors import InvalidArguments


class ReorderPointSetting(msgspec.Struct):
    """Either ``reorder_quantity`` (order that much) or ``max_level`` (order up to it)."""

    reorder_point: Decimal
    lead_time_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 0
    reorder_quantity: Decimal | None = None
    max_level: Decimal | None = None
    min_order_quantity: Decimal | None = None
    order_multiple: Decimal | None = None
    preferred_supplier_id: str | None = None


class Conversion(msgspec.Struct):
    """The suggestions to order, each optionally with its own quantity or supplier."""

    choices: list[Choice]


def _suggestions_and_prices(conn, *, site_ids: list[str], item_ids: list[str]):
    suggestions = [s for site_id in site_ids for s in purchase_suggestion.list_suggestions(conn, site_id=site_id)]
    return suggestions, purchase_suggestion.last_prices(conn, item_ids)


class ReplenishmentController(Controller):
    path = "/api/v1"
    tags = ["purchasing"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/reorder-points", opt={"permission": "inventory.view"})
    async def list_reorder_points(self, db: Database, principal: Principal,
                                  site_id: str | None = None) -> list[ReorderPointView]:
        return await db.read(count_queries.list_reorder_points, site_id=site_in_scope(principal, site_id))

    @put("/reorder-points/{site_id:str}/{item_id:str}", opt={"permission": "inventory.set_reorder_point"})
    async def set_reorder_point(self, site_id: str, item_id: str, data: ReorderPointSetting, hq: HqCommands,
                                db: Database, principal: Principal) -> ReorderPointView:
        """Create or overwrite the reorder point of an item at a site."""
        site_in_scope(principal, site_id)
        await hq.run("inventory.set_reorder_point", SetReorderPoint(
            item_id=item_id, site_id=site_id, reorder_point=data.reorder_point, lead_time_days=data.lead_time_days,
            reorder_quantity=data.reorder_quantity, max_level=data.max_level,
            min_order_quantity=data.min_order_quantity, order_multiple=data.order_multiple,
            preferred_supplier_id=data.preferred_supplier_id))
        points = await db.read(count_queries.list_reorder_points, site_id=site_id)
        return next(point for point in points if point.item_id == item_id)

    @get("/purchase-suggestions", opt={"permission": "purchasing.view"})
    async def suggestions(self, db: Database, principal: Principal, site_id: str | None = None,
                          supplier_id: str | None = None) -> list[Suggestion]:
        """Items whose projected stock (on-hand + on order − reserved) is at or below their reorder
        point, with the quantity to order."""
        return await db.read(purchase_suggestion.list_suggestions, site_id=site_in_scope(principal, site_id),
                             supplier_id=supplier_id)

    @post("/purchase-suggestions/orders", opt={"permission": "purchasing.create_po"})
    async def convert(self, data: Conversion, hq: HqCommands, db: Database,
                      principal: Principal) -> list[PurchaseOrderView]:
        """Draft purchase orders for the chosen suggestions: one per site and supplier."""
        if not data.choices:
            raise InvalidArguments("choose at least one suggestion")
        site_ids = sorted({choice.site_id for choice in data.choices})
        for site_id in site_ids:
            site_in_scope(principal, site_id)
        suggestions, prices = await db.read(_suggestions_and_prices, site_ids=site_ids,
                                            item_ids=sorted({choice.item_id for choice in data.choices}))
        planned = purchase_suggestion.plan_orders(suggestions, data.choices, prices=prices,
                                                  today=datetime.now(timezone.utc).date())
        for plan in planned:
            await hq.run("purchasing.create_po", plan.order)
        return [await db.read(queries.get_purchase_order, plan.order.po_id) for plan in planned]


CONTROLLERS = [ReplenishmentController]
