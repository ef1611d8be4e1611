"""Purchase suggestions (采购建议): which items a site should order now, how much, from whom.

An item with a reorder point at a site (erp/inventory/reorder_point.py) is suggested when its
projected stock is at or below the point::

    projected = on-hand at the site + still to arrive on open purchase orders − reserved for sales

"Still to arrive" counts draft orders too: a suggestion already turned into a draft is not
suggested again. The quantity is the reorder quantity, or what brings the projected stock up to
the maximum level, rounded by ``order_quantity`` to the supplier's minimum and pack multiple.

Turning chosen suggestions into orders (``plan_orders``) makes one draft purchase order per
site and supplier; HQ runs each through ``purchasing.create_po``, the mutation a buyer's own
order goes through, so no rule is skipped. Nothing here writes: suggestions are computed on
every read from on-hand, the order lines and ``reserved_stock``, which are kept current.
It reads the sales module's ``reserved_stock`` as a read model only, at HQ: purchasing's
mutations never touch sales tables, so the module does not depend on sales.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

import msgspec
from sqlalchemy import Connection, select

from erp.inventory.item import items
from erp.inventory.on_hand import on_hand
from erp.inventory.reorder_point import reorder_points
from erp.purchasing import errors
from erp.purchasing.purchase_order import CreatePurchaseOrder, NewLine, purchase_order_lines, purchase_orders
from erp.sales.reservation import reserved_stock
from sync.errors import MutationRejected
from sync.ids import new_id

# Orders whose lines may still bring goods: a cancelled or closed order brings nothing more.
ON_ORDER_STATES = ("draft", "approved", "partially_received", "received")


def order_quantity(needed: Decimal, *, min_order: Decimal | None = None, multiple: Decimal | None = None) -> Decimal:
    """What to order to cover ``needed``: at least the minimum, in whole multiples of the pack."""
    if needed <= 0:
        return Decimal(0)
    quantity = max(needed, min_order or Decimal(0))
    if multiple:
        quantity = (quantity / multiple).to_integral_value(rounding=ROUND_CEILING) * multiple
    return quantity


class Suggestion(msgspec.Struct):
    site_id: str
    item_id: str
    sku: str
    name: str
    on_hand: Decimal
    on_order: Decimal  # still to arrive on open orders of the site
    reserved: Decimal  # promised to customers, not yet delivered
    projected: Decimal
    reorder_point: Decimal
    suggested_quantity: Decimal
    preferred_supplier_id: str | None
    lead_time_days: int


def _sums(rows, key) -> dict:
    totals: dict = defaultdict(lambda: Decimal(0))
    for row in rows:  # summed in Python: SQLite's SQL sum of Decimal text goes through floats
        totals[key(row)] += row.quantity
    return totals


def list_suggestions(conn: Connection, *, site_id: str | None, supplier_id: str | None = None) -> list[Suggestion]:
    """Items at or below their reorder point, by site and SKU."""
    points = select(reorder_points, items.c.sku, items.c.name).join(items, items.c.id == reorder_points.c.item_id)
    if site_id:
        points = points.where(reorder_points.c.site_id == site_id)
    if supplier_id:
        points = points.where(reorder_points.c.preferred_supplier_id == supplier_id)
    points_rows = conn.execute(points.order_by(reorder_points.c.site_id, items.c.sku)).all()
    if not points_rows:
        return []
    item_ids = sorted({row.item_id for row in points_rows})
    stock = _sums(conn.execute(select(on_hand.c.site_id, on_hand.c.item_id, on_hand.c.quantity)
                               .where(on_hand.c.item_id.in_(item_ids))), lambda r: (r.site_id, r.item_id))
    reserved = _sums(conn.execute(select(reserved_stock).where(reserved_stock.c.item_id.in_(item_ids))),
                     lambda r: (r.site_id, r.item_id))
    line, po = purchase_order_lines, purchase_orders
    on_order: dict = defaultdict(lambda: Decimal(0))
    for row in conn.execute(select(line.c.site_id, line.c.item_id, line.c.quantity, line.c.received_quantity,
                                   line.c.returned_quantity).join(po, po.c.id == line.c.po_id)
                            .where(line.c.item_id.in_(item_ids), po.c.status.in_(ON_ORDER_STATES))):
        on_order[(row.site_id, row.item_id)] += max(row.quantity - (row.received_quantity - row.returned_quantity),
                                                    Decimal(0))
    found = []
    for row in points_rows:
        key = (row.site_id, row.item_id)
        projected = stock[key] + on_order[key] - reserved[key]
        if projected > row.reorder_point:
            continue
        needed = row.reorder_quantity if row.reorder_quantity is not None else row.max_level - projected
        quantity = order_quantity(needed, min_order=row.min_order_quantity, multiple=row.order_multiple)
        found.append(Suggestion(row.site_id, row.item_id, row.sku, row.name, stock[key], on_order[key], reserved[key],
                                projected, row.reorder_point, quantity, row.preferred_supplier_id, row.lead_time_days))
    return found


class Choice(msgspec.Struct, frozen=True):
    """A suggestion to order; ``quantity`` and ``supplier_id`` override the suggested ones."""

    site_id: str
    item_id: str
    quantity: Decimal | None = None
    supplier_id: str | None = None


@dataclass(frozen=True)
class PlannedOrder:
    order: CreatePurchaseOrder
    item_ids: tuple[str, ...]


def last_prices(conn: Connection, item_ids: list[str]) -> dict[tuple[str, str, str], Decimal]:
    """The price of each (site, supplier, item) on its latest order: what a draft starts from."""
    line, po = purchase_order_lines, purchase_orders
    prices: dict[tuple[str, str, str], Decimal] = {}
    rows = conn.execute(select(po.c.site_id, po.c.supplier_id, line.c.item_id, line.c.unit_price)
                        .join(po, po.c.id == line.c.po_id).where(line.c.item_id.in_(item_ids))
                        .order_by(po.c.created_at, po.c.id))
    for row in rows:
        prices[(row.site_id, row.supplier_id, row.item_id)] = row.unit_price
    return prices


def plan_orders(suggestions: list[Suggestion], choices: list[Choice], *, prices: dict[tuple[str, str, str], Decimal],
                today: date) -> list[PlannedOrder]:
    """One draft order per (site, supplier) for the chosen suggestions, lines in the order chosen."""
    by_key = {(s.site_id, s.item_id): s for s in suggestions}
    groups: dict[tuple[str, str], list[NewLine]] = {}
    for choice in choices:
        suggestion = by_key.get((choice.site_id, choice.item_id))
        if suggestion is None:
            raise MutationRejected("this item is not suggested for this site (not at or below its reorder point)",
                                   code=errors.NOT_SUGGESTED, site_id=choice.site_id, item_id=choice.item_id)
        supplier_id = choice.supplier_id or suggestion.preferred_supplier_id
        if supplier_id is None:
            raise MutationRejected(f"{suggestion.sku} has no preferred supplier: choose one",
                                   code=errors.NO_SUPPLIER, site_id=choice.site_id, item_id=choice.item_id)
        quantity = choice.quantity if choice.quantity is not None else suggestion.suggested_quantity
        price = prices.get((choice.site_id, supplier_id, choice.item_id), Decimal(0))
        groups.setdefault((choice.site_id, supplier_id), []).append(
            NewLine(new_id(), choice.item_id, quantity, price))
    planned = []
    for (site_id, supplier_id), lines in groups.items():
        po_id = new_id()
        planned.append(PlannedOrder(CreatePurchaseOrder(
            po_id=po_id, site_id=site_id, number=f"PS-{today:%Y%m%d}-{po_id[-12:]}", supplier_id=supplier_id,
            lines=lines, note="由采购建议生成 (from purchase suggestions)"), tuple(line.item_id for line in lines)))
    return planned
