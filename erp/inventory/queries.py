"""Read models of the inventory module for the HQ API: plain functions over a Connection.

They return msgspec structs, so the HTTP layer only serializes. Lists are paginated by keyset
(``after`` = last id seen), which stays fast however deep the page.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec
from sqlalchemy import Connection, select

from erp.inventory.inventory_exception import inventory_exceptions
from erp.inventory.item import items, units
from erp.inventory.lot import lot_on_hand, lots
from erp.inventory.on_hand import on_hand
from erp.inventory.serial_number import serial_numbers
from erp.inventory.stock_move import stock_moves
from erp.inventory.warehouse import locations, warehouses


class UnitView(msgspec.Struct):
    code: str
    name: str


class ItemView(msgspec.Struct):
    id: str
    sku: str
    name: str
    unit_code: str
    barcode: str | None
    active: bool
    field_versions: dict[str, int]
    tracking: str = "none"  # none | lot | serial
    shelf_life_days: int | None = None
    valuation_method: str = "moving_average"  # moving_average | fifo | monthly_weighted


class WarehouseView(msgspec.Struct):
    id: str
    site_id: str
    code: str
    name: str
    negative_stock_policy: str
    field_versions: dict[str, int]


class LocationView(msgspec.Struct):
    id: str
    site_id: str
    warehouse_id: str
    code: str
    name: str
    kind: str = "storage"  # receiving | storage | shipping | line_side


class OnHandView(msgspec.Struct):
    site_id: str
    item_id: str
    location_id: str
    quantity: Decimal


class MoveView(msgspec.Struct):
    id: str
    site_id: str
    kind: str
    item_id: str
    location_id: str
    quantity: Decimal
    occurred_at: datetime
    reference: str | None
    document_id: str | None
    reverses_id: str | None
    device_id: str | None
    seq: int | None
    user_name: str | None
    hlc: str


class MovePage(msgspec.Struct):
    items: list[MoveView]
    next_after: str | None  # pass as ``after`` for the next page; None on the last page


class ExceptionView(msgspec.Struct):
    id: str
    site_id: str
    kind: str
    item_id: str
    location_id: str
    quantity: Decimal
    involved: list[dict]
    status: str
    raised_at: datetime
    review_note: str | None


def list_units(conn: Connection) -> list[UnitView]:
    return [UnitView(r.code, r.name) for r in conn.execute(select(units).order_by(units.c.code))]


def _item(r) -> ItemView:
    return ItemView(r.id, r.sku, r.name, r.unit_code, r.barcode, bool(r.active), msgspec.json.decode(r._fv),
                    r.tracking, r.shelf_life_days, r.valuation_method)


def list_items(conn: Connection, *, search: str | None, limit: int, after: str | None) -> list[ItemView]:
    query = select(items).order_by(items.c.id).limit(limit)
    if after:
        query = query.where(items.c.id > after)
    if search:
        pattern = f"%{search}%"
        query = query.where(items.c.name.like(pattern) | items.c.sku.like(pattern) | (items.c.barcode == search))
    return [_item(r) for r in conn.execute(query)]


def get_item(conn: Connection, item_id: str) -> ItemView | None:
    row = conn.execute(select(items).where(items.c.id == item_id)).first()
    return _item(row) if row is not None else None


def list_warehouses(conn: Connection, *, site_id: str | None) -> list[WarehouseView]:
    query = select(warehouses).order_by(warehouses.c.code)
    if site_id:
        query = query.where(warehouses.c.site_id == site_id)
    return [
        WarehouseView(r.id, r.site_id, r.code, r.name, r.negative_stock_policy, msgspec.json.decode(r._fv))
        for r in conn.execute(query)
    ]


def list_locations(conn: Connection, *, site_id: str | None, warehouse_id: str | None) -> list[LocationView]:
    query = select(locations).order_by(locations.c.code)
    if site_id:
        query = query.where(locations.c.site_id == site_id)
    if warehouse_id:
        query = query.where(locations.c.warehouse_id == warehouse_id)
    return [LocationView(r.id, r.site_id, r.warehouse_id, r.code, r.name, r.kind) for r in conn.execute(query)]


def list_on_hand(
    conn: Connection, *, site_id: str | None, item_id: str | None, location_id: str | None
) -> list[OnHandView]:
    query = select(on_hand).order_by(on_hand.c.item_id, on_hand.c.location_id)
    if site_id:
        query = query.where(on_hand.c.site_id == site_id)
    if item_id:
        query = query.where(on_hand.c.item_id == item_id)
    if location_id:
        query = query.where(on_hand.c.location_id == location_id)
    return [OnHandView(r.site_id, r.item_id, r.location_id, r.quantity) for r in conn.execute(query)]


def list_moves(
    conn: Connection, *, site_id: str | None, item_id: str | None, location_id: str | None, kind: str | None,
    since: datetime | None, until: datetime | None, limit: int, after: str | None,
) -> MovePage:
    query = select(stock_moves).order_by(stock_moves.c.id).limit(limit + 1)
    filters = {
        stock_moves.c.site_id: site_id, stock_moves.c.item_id: item_id,
        stock_moves.c.location_id: location_id, stock_moves.c.kind: kind,
    }
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(stock_moves.c.occurred_at >= since)
    if until is not None:
        query = query.where(stock_moves.c.occurred_at < until)
    if after:
        query = query.where(stock_moves.c.id > after)
    rows = conn.execute(query).all()
    page = [
        MoveView(r.id, r.site_id, r.kind, r.item_id, r.location_id, r.quantity, r.occurred_at, r.reference,
                 r.document_id, r.reverses_id, r.device_id, r.seq, r.user_name, r.hlc)
        for r in rows[:limit]
    ]
    return MovePage(items=page, next_after=page[-1].id if len(rows) > limit else None)


def list_exceptions(conn: Connection, *, site_id: str | None, status: str | None) -> list[ExceptionView]:
    query = select(inventory_exceptions).order_by(inventory_exceptions.c.raised_at)
    if site_id:
        query = query.where(inventory_exceptions.c.site_id == site_id)
    if status:
        query = query.where(inventory_exceptions.c.status == status)
    return [
        ExceptionView(r.id, r.site_id, r.kind, r.item_id, r.location_id, r.quantity,
                      msgspec.json.decode(r.involved_json), r.status, r.raised_at, r.review_note)
        for r in conn.execute(query)
    ]


class LotLocationView(msgspec.Struct):
    location_id: str
    quantity: Decimal


class LotView(msgspec.Struct):
    site_id: str
    item_id: str
    lot_no: str
    expires_on: date | None
    status: str  # released | held
    hold_reason: str | None
    held_at: datetime | None
    held_by: str | None
    release_reason: str | None
    received_at: datetime | None
    on_hand: Decimal  # over the site's locations
    locations: list[LotLocationView]  # where it lies (non-zero quantities)


class SerialView(msgspec.Struct):
    site_id: str
    item_id: str
    serial_no: str
    location_id: str | None  # None once it has left stock
    status: str  # in_stock | issued
    last_move_id: str


def list_lots(conn: Connection, *, site_id: str | None, item_id: str | None, status: str | None) -> list[LotView]:
    """Lots (of one site, or all), earliest expiry first (no expiry last), with where each lies."""
    query = select(lots)
    stock = select(lot_on_hand)
    if site_id:
        query = query.where(lots.c.site_id == site_id)
        stock = stock.where(lot_on_hand.c.site_id == site_id)
    if item_id:
        query = query.where(lots.c.item_id == item_id)
        stock = stock.where(lot_on_hand.c.item_id == item_id)
    if status:
        query = query.where(lots.c.status == status)
    where: dict[tuple[str, str], list[LotLocationView]] = {}
    for r in conn.execute(stock.order_by(lot_on_hand.c.location_id)):
        if r.quantity != 0:
            where.setdefault((r.site_id, r.item_id, r.lot_no), []).append(LotLocationView(r.location_id, r.quantity))
    views = []
    for r in conn.execute(query):
        places = where.get((r.site_id, r.item_id, r.lot_no), [])
        views.append(LotView(r.site_id, r.item_id, r.lot_no, r.expires_on, r.status, r.hold_reason, r.held_at,
                             r.held_by, r.release_reason, r.received_at,
                             sum((p.quantity for p in places), Decimal(0)), places))
    views.sort(key=lambda v: (v.expires_on is None, v.expires_on or date.min, v.site_id, v.item_id, v.lot_no))
    return views


def list_serials(conn: Connection, *, item_id: str, site_id: str | None, status: str | None) -> list[SerialView]:
    query = select(serial_numbers).where(serial_numbers.c.item_id == item_id).order_by(
        serial_numbers.c.serial_no, serial_numbers.c.site_id)
    if site_id:
        query = query.where(serial_numbers.c.site_id == site_id)
    if status:
        query = query.where(serial_numbers.c.status == status)
    return [SerialView(r.site_id, r.item_id, r.serial_no, r.location_id, r.status, r.last_move_id)
            for r in conn.execute(query)]
