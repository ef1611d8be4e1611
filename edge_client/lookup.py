"""Find master data in the local replica by what people type or scan: SKU, barcode, code, employee
number, id."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, or_, select

from erp.hr.employee import hr_employees
from erp.inventory.item import items
from erp.inventory.on_hand import on_hand
from erp.inventory.warehouse import locations
from sync.errors import JcerpError


class NotFoundLocally(JcerpError):
    code = "edge.not_found"


def find_item(conn: Connection, text: str) -> Any:
    row = conn.execute(
        select(items).where(or_(items.c.id == text, items.c.sku == text, items.c.barcode == text))
    ).first()
    if row is None:
        raise NotFoundLocally(f"no item with SKU, barcode or id {text!r} on this device")
    return row


def find_location(conn: Connection, text: str, site_id: str) -> Any:
    row = conn.execute(
        select(locations).where(locations.c.site_id == site_id, or_(locations.c.id == text, locations.c.code == text))
    ).first()
    if row is None:
        raise NotFoundLocally(f"no location {text!r} in this device's site")
    return row


def find_employee(conn: Connection, text: str, site_id: str) -> Any:
    """An employee of the site by employee number or id. Personal fields come back decrypted, or
    None where this device's role does not receive them."""
    row = conn.execute(
        select(hr_employees).where(hr_employees.c.site_id == site_id,
                                   or_(hr_employees.c.id == text, hr_employees.c.employee_no == text))
    ).first()
    if row is None:
        raise NotFoundLocally(f"no employee {text!r} in this device's site")
    return row


def on_hand_rows(conn: Connection, site_id: str) -> list[tuple[str, str, Decimal]]:
    """(SKU, location code, quantity) for the site, sorted."""
    query = (
        select(items.c.sku, locations.c.code, on_hand.c.quantity)
        .join(items, items.c.id == on_hand.c.item_id)
        .join(locations, locations.c.id == on_hand.c.location_id)
        .where(on_hand.c.site_id == site_id)
        .order_by(items.c.sku, locations.c.code)
    )
    return [(r.sku, r.code, r.quantity) for r in conn.execute(query)]
