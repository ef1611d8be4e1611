"""HQ API for inventory: master data, on-hand, movements, exceptions, lots, serials, put-away.

Writes run the module's own mutations (``HqCommands``); reads call ``erp.inventory.queries``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter

from erp.inventory import errors, queries
from erp.inventory.fefo import Pick, Skipped, suggest_picks
from erp.inventory.inventory_exception import ReviewException
from erp.inventory.item import CreateItem, CreateUnit, Tracking, UpdateItem, ValuationMethod
from erp.inventory.lot import HoldLot, ReleaseLot
from erp.inventory.putaway import PutawaySuggestion, suggest_putaway
from erp.inventory.queries import (
    ExceptionView, ItemView, LocationView, LotView, MovePage, OnHandView, SerialView, UnitView, WarehouseView,
)
from erp.inventory.warehouse import CreateLocation, CreateWarehouse, LocationKind, UpdateWarehouse
from server.db import Database
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.hq import HqCommands, provide_db, provide_hq
from sync.context import Edit, FieldConflict
from sync.errors import JcerpError, NotFound
from sync.ids import new_id

Limit = Annotated[int, Parameter(ge=1, le=1000)]


class NewItem(msgspec.Struct):
    sku: str
    name: str
    unit_code: str
    barcode: str | None = None
    id: str | None = None
    tracking: Tracking = "none"  # lot: every move names a lot; serial: every unit has a serial number
    shelf_life_days: Annotated[int, msgspec.Meta(ge=1, le=36500)] | None = None
    valuation_method: ValuationMethod = "moving_average"


class ItemEdit(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields to change, each with the field version it was based on (from GET)."""

    name: Edit[str] | None = None
    barcode: Edit[str | None] | None = None
    active: Edit[bool] | None = None


class NewWarehouse(msgspec.Struct):
    site_id: str
    code: str
    name: str
    negative_stock_policy: Literal["allow", "flag", "reject"] = "flag"
    id: str | None = None


class WarehouseEdit(msgspec.Struct, forbid_unknown_fields=True):
    name: Edit[str] | None = None
    negative_stock_policy: Edit[Literal["allow", "flag", "reject"]] | None = None


class NewLocation(msgspec.Struct):
    warehouse_id: str
    code: str
    name: str
    id: str | None = None
    kind: LocationKind = "storage"  # receiving | storage | shipping | line_side


class Review(msgspec.Struct):
    note: str = ""


class PickSuggestions(msgspec.Struct):
    """FEFO picks for a quantity: ``items`` in pick order; ``short`` what usable stock cannot cover."""

    site_id: str
    item_id: str
    items: list[Pick]
    short: Decimal
    skipped: list[Skipped]  # held and expired stock, not suggested


class LotState(msgspec.Struct):
    site_id: str
    item_id: str
    lot_no: str
    status: str


def _site_required(principal: Principal, site_id: str | None) -> str:
    site = site_in_scope(principal, site_id)
    if site is None:
        raise JcerpError("name the site (site_id)", code="inventory.site_required")
    return site


class EditResult(msgspec.Struct):
    """What an edit did: fields changed meanwhile by someone else are listed, not overwritten."""

    id: str
    conflicts: list[dict]


def _conflicts(found: list[FieldConflict]) -> list[dict]:
    return [
        {"field": c.field, "yours": c.device_value, "current": c.server_value, "kept": c.kept} for c in found
    ]


class InventoryController(Controller):
    path = "/api/v1"
    tags = ["inventory"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/units", opt={"permission": "inventory.view"})
    async def list_units(self, db: Database) -> list[UnitView]:
        return await db.read(queries.list_units)

    @post("/units", opt={"permission": "inventory.create_unit"})
    async def create_unit(self, data: CreateUnit, hq: HqCommands) -> UnitView:
        await hq.run("inventory.create_unit", data)
        return UnitView(data.code, data.name)

    @get("/items", opt={"permission": "inventory.view"})
    async def list_items(
        self, db: Database, q: str | None = None, limit: Limit = 100, after: str | None = None
    ) -> list[ItemView]:
        return await db.read(queries.list_items, search=q, limit=limit, after=after)

    @get("/items/{item_id:str}", opt={"permission": "inventory.view"})
    async def get_item(self, db: Database, item_id: str) -> ItemView:
        item = await db.read(queries.get_item, item_id)
        if item is None:
            raise NotFound("no such item", item_id=item_id)
        return item

    @post("/items", opt={"permission": "inventory.create_item"})
    async def create_item(self, data: NewItem, hq: HqCommands, db: Database) -> ItemView:
        item_id = data.id or new_id()
        await hq.run("inventory.create_item", CreateItem(item_id=item_id, sku=data.sku, name=data.name,
                                                         unit_code=data.unit_code, barcode=data.barcode,
                                                         tracking=data.tracking, shelf_life_days=data.shelf_life_days,
                                                         valuation_method=data.valuation_method))
        return await db.read(queries.get_item, item_id)

    @patch("/items/{item_id:str}", opt={"permission": "inventory.update_item"})
    async def edit_item(self, item_id: str, data: ItemEdit, hq: HqCommands) -> EditResult:
        found = await hq.run("inventory.update_item", UpdateItem(item_id=item_id, name=data.name,
                                                                  barcode=data.barcode, active=data.active))
        return EditResult(item_id, _conflicts(found))

    @get("/warehouses", opt={"permission": "inventory.view"})
    async def list_warehouses(self, db: Database, principal: Principal, site_id: str | None = None) -> list[WarehouseView]:
        return await db.read(queries.list_warehouses, site_id=site_in_scope(principal, site_id))

    @post("/warehouses", opt={"permission": "inventory.create_warehouse"})
    async def create_warehouse(self, data: NewWarehouse, hq: HqCommands, db: Database) -> WarehouseView:
        warehouse_id = data.id or new_id()
        await hq.run("inventory.create_warehouse", CreateWarehouse(
            warehouse_id=warehouse_id, site_id=data.site_id, code=data.code, name=data.name,
            negative_stock_policy=data.negative_stock_policy))
        created = await db.read(queries.list_warehouses, site_id=data.site_id)
        return next(warehouse for warehouse in created if warehouse.id == warehouse_id)

    @patch("/warehouses/{warehouse_id:str}", opt={"permission": "inventory.update_warehouse"})
    async def edit_warehouse(self, warehouse_id: str, data: WarehouseEdit, hq: HqCommands) -> EditResult:
        found = await hq.run("inventory.update_warehouse", UpdateWarehouse(
            warehouse_id=warehouse_id, name=data.name, negative_stock_policy=data.negative_stock_policy))
        return EditResult(warehouse_id, _conflicts(found))

    @get("/locations", opt={"permission": "inventory.view"})
    async def list_locations(
        self, db: Database, principal: Principal, site_id: str | None = None, warehouse_id: str | None = None
    ) -> list[LocationView]:
        return await db.read(queries.list_locations, site_id=site_in_scope(principal, site_id),
                             warehouse_id=warehouse_id)

    @post("/locations", opt={"permission": "inventory.create_location"})
    async def create_location(self, data: NewLocation, hq: HqCommands, db: Database) -> LocationView:
        location_id = data.id or new_id()
        await hq.run("inventory.create_location", CreateLocation(
            location_id=location_id, warehouse_id=data.warehouse_id, code=data.code, name=data.name,
            kind=data.kind))
        created = await db.read(queries.list_locations, site_id=None, warehouse_id=data.warehouse_id)
        return next(location for location in created if location.id == location_id)

    @get("/on-hand", opt={"permission": "inventory.view"})
    async def on_hand(
        self, db: Database, principal: Principal, site_id: str | None = None, item_id: str | None = None,
        location_id: str | None = None,
    ) -> list[OnHandView]:
        """On-hand per item and location, from the derived table (never a ledger sum)."""
        return await db.read(queries.list_on_hand, site_id=site_in_scope(principal, site_id), item_id=item_id,
                             location_id=location_id)

    @get("/movements", opt={"permission": "inventory.view"})
    async def movements(
        self, db: Database, principal: Principal, site_id: str | None = None, item_id: str | None = None,
        location_id: str | None = None, kind: str | None = None, since: datetime | None = None,
        until: datetime | None = None, limit: Limit = 100, after: str | None = None,
    ) -> MovePage:
        """Stock moves, oldest first, filtered; page on with ``after=next_after``."""
        return await db.read(queries.list_moves, site_id=site_in_scope(principal, site_id), item_id=item_id, location_id=location_id,
                             kind=kind, since=since, until=until, limit=limit, after=after)

    @get("/inventory-exceptions", opt={"permission": "inventory.view"})
    async def exceptions(self, db: Database, principal: Principal, site_id: str | None = None,
                         status: str | None = None) -> list[ExceptionView]:
        return await db.read(queries.list_exceptions, site_id=site_in_scope(principal, site_id), status=status)

    @post("/inventory-exceptions/{exception_id:str}/review", status_code=200, opt={"permission": "inventory.review_exception"})
    async def review(self, exception_id: str, data: Review, hq: HqCommands) -> dict:
        await hq.run("inventory.review_exception", ReviewException(exception_id=exception_id, note=data.note))
        return {"id": exception_id, "status": "reviewed"}

    @get("/lots", opt={"permission": "inventory.view"})
    async def lots(self, db: Database, principal: Principal, site_id: str | None = None, item_id: str | None = None,
                   status: Literal["released", "held"] | None = None) -> list[LotView]:
        """Lots with expiry, hold status and on-hand, earliest expiry first."""
        return await db.read(queries.list_lots, site_id=site_in_scope(principal, site_id), item_id=item_id,
                             status=status)

    @post("/lots/hold", status_code=200, opt={"permission": "inventory.hold_lot"})
    async def hold_lot(self, data: HoldLot, hq: HqCommands) -> LotState:
        await hq.run("inventory.hold_lot", data)
        return LotState(data.site_id, data.item_id, data.lot_no, "held")

    @post("/lots/release", status_code=200, opt={"permission": "inventory.release_lot"})
    async def release_lot(self, data: ReleaseLot, hq: HqCommands) -> LotState:
        await hq.run("inventory.release_lot", data)
        return LotState(data.site_id, data.item_id, data.lot_no, "released")

    @get("/items/{item_id:str}/fefo-picks", opt={"permission": "inventory.view"})
    async def fefo_picks(
        self, db: Database, principal: Principal, item_id: str, site_id: str | None = None,
        quantity: Decimal | None = None, location_id: str | None = None,
    ) -> PickSuggestions:
        """Which lots to pick, earliest expiry first; without ``quantity``, every usable lot in order."""
        site = _site_required(principal, site_id)
        if quantity is not None and not (quantity.is_finite() and quantity > 0):
            raise JcerpError("the quantity to pick must be positive", code=errors.INVALID_QUANTITY)
        plan = await db.read(suggest_picks, site_id=site, item_id=item_id, quantity=quantity,
                             location_id=location_id)
        return PickSuggestions(site, item_id, plan.picks, plan.short, plan.skipped)

    @get("/items/{item_id:str}/serial-numbers", opt={"permission": "inventory.view"})
    async def serial_numbers(self, db: Database, principal: Principal, item_id: str, site_id: str | None = None,
                             status: Literal["in_stock", "issued"] | None = None) -> list[SerialView]:
        return await db.read(queries.list_serials, item_id=item_id, site_id=site_in_scope(principal, site_id),
                             status=status)

    @get("/items/{item_id:str}/putaway", opt={"permission": "inventory.view"})
    async def putaway(self, db: Database, principal: Principal, item_id: str,
                      site_id: str | None = None) -> list[PutawaySuggestion]:
        """Where to put the item away: the best storage bin first (empty list: no bin fits)."""
        found = await db.read(suggest_putaway, site_id=_site_required(principal, site_id), item_id=item_id)
        return [found] if found is not None else []


CONTROLLERS = [InventoryController]
