"""Read models of cycle counts and reorder points for the HQ API: plain functions over a Connection.

They return msgspec structs, so the HTTP layer only serializes. The variance list applies
``count_policy.exceeds_tolerance`` to the lines as counted; ``count_history`` feeds
``count_policy.due_for_count`` from the ledger (the last ``count`` move of each item).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec
from sqlalchemy import Connection, func, select

from erp.inventory.count_policy import ItemCountHistory, exceeds_tolerance
from erp.inventory.cycle_count import cycle_count_entries, cycle_count_lines, cycle_counts
from erp.inventory.item import items
from erp.inventory.on_hand import on_hand
from erp.inventory.reorder_point import reorder_points
from erp.inventory.stock_move import stock_moves
from erp.inventory.warehouse import locations


class CountLineView(msgspec.Struct):
    id: str
    line_no: int
    item_id: str
    sku: str
    item_name: str
    location_id: str
    location_code: str
    lot_no: str | None
    counted_quantity: Decimal | None
    system_quantity: Decimal | None  # what the ledger held when the line was counted
    difference: Decimal | None  # counted − system
    counted_at: datetime | None
    counted_by: str | None
    move_id: str | None  # the count move posted on approval


class CountEntryView(msgspec.Struct):
    id: str
    line_id: str
    counted_quantity: Decimal
    system_quantity: Decimal
    flag: str | None  # cancelled | approved: recorded after that decision, kept for review
    occurred_at: datetime
    device_id: str | None
    user_name: str | None


class CycleCountView(msgspec.Struct):
    id: str
    site_id: str
    warehouse_id: str
    number: str
    status: str
    note: str | None
    created_at: datetime
    created_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    cancel_reason: str | None
    lines: list[CountLineView]
    entries: list[CountEntryView] = []


class VarianceView(msgspec.Struct):
    count_id: str
    number: str
    line_id: str
    line_no: int
    item_id: str
    sku: str
    location_id: str
    location_code: str
    lot_no: str | None
    counted_quantity: Decimal
    system_quantity: Decimal
    difference: Decimal


class ReorderPointView(msgspec.Struct):
    item_id: str
    site_id: str
    reorder_point: Decimal
    reorder_quantity: Decimal | None
    max_level: Decimal | None
    min_order_quantity: Decimal | None
    order_multiple: Decimal | None
    preferred_supplier_id: str | None
    lead_time_days: int
    updated_at: datetime
    updated_by: str | None


def _lines(conn: Connection, count_ids: list[str]) -> dict[str, list[CountLineView]]:
    found: dict[str, list[CountLineView]] = {count_id: [] for count_id in count_ids}
    if not count_ids:
        return found
    line = cycle_count_lines
    rows = conn.execute(select(line, items.c.sku, items.c.name.label("item_name"),
                               locations.c.code.label("location_code"))
                        .join(items, items.c.id == line.c.item_id).join(locations, locations.c.id == line.c.location_id)
                        .where(line.c.count_id.in_(count_ids)).order_by(line.c.count_id, line.c.line_no))
    for r in rows:
        difference = None if r.counted_quantity is None else r.counted_quantity - r.system_quantity
        found[r.count_id].append(CountLineView(
            r.id, r.line_no, r.item_id, r.sku, r.item_name, r.location_id, r.location_code, r.lot_no,
            r.counted_quantity, r.system_quantity, difference, r.counted_at, r.counted_by, r.move_id))
    return found


def _documents(conn: Connection, rows, *, with_entries: bool = False) -> list[CycleCountView]:
    rows = list(rows)
    lines = _lines(conn, [r.id for r in rows])
    entries: dict[str, list[CountEntryView]] = {r.id: [] for r in rows}
    if with_entries and rows:
        entry = cycle_count_entries
        for e in conn.execute(select(entry).where(entry.c.count_id.in_([r.id for r in rows]))
                              .order_by(entry.c.occurred_at, entry.c.id)):
            entries[e.count_id].append(CountEntryView(e.id, e.line_id, e.counted_quantity, e.system_quantity, e.flag,
                                                      e.occurred_at, e.device_id, e.user_name))
    return [CycleCountView(r.id, r.site_id, r.warehouse_id, r.number, r.status, r.note, r.created_at, r.created_by,
                           r.decided_at, r.decided_by, r.cancel_reason, lines[r.id], entries[r.id]) for r in rows]


def list_cycle_counts(conn: Connection, *, site_id: str | None, status: str | None, limit: int = 100,
                      after: str | None = None) -> list[CycleCountView]:
    """Documents by id (keyset: ``after`` = the last id seen), with their lines."""
    query = select(cycle_counts).order_by(cycle_counts.c.id).limit(limit)
    if site_id:
        query = query.where(cycle_counts.c.site_id == site_id)
    if status:
        query = query.where(cycle_counts.c.status == status)
    if after:
        query = query.where(cycle_counts.c.id > after)
    return _documents(conn, conn.execute(query))


def get_cycle_count(conn: Connection, count_id: str) -> CycleCountView | None:
    found = _documents(conn, conn.execute(select(cycle_counts).where(cycle_counts.c.id == count_id)), with_entries=True)
    return found[0] if found else None


def variances(conn: Connection, *, count_id: str, absolute: Decimal, percent: Decimal | None) -> list[VarianceView]:
    """Counted lines whose difference is beyond the tolerance, largest difference first."""
    document = get_cycle_count(conn, count_id)
    if document is None:
        return []
    found = [VarianceView(document.id, document.number, line.id, line.line_no, line.item_id, line.sku,
                          line.location_id, line.location_code, line.lot_no, line.counted_quantity,
                          line.system_quantity, line.difference)
             for line in document.lines
             if line.counted_quantity is not None and line.system_quantity is not None
             and exceeds_tolerance(line.counted_quantity, line.system_quantity, absolute=absolute, percent=percent)]
    return sorted(found, key=lambda v: (-abs(v.difference), v.line_no))


def count_history(conn: Connection, *, warehouse_id: str, site_id: str,
                  classes: dict[str, str]) -> tuple[list[ItemCountHistory], dict[str, list[str]]]:
    """For the items stocked in a warehouse: their class and last count date, and their locations."""
    stocked: dict[str, list[str]] = {}
    for r in conn.execute(select(on_hand.c.item_id, on_hand.c.location_id)
                          .join(locations, locations.c.id == on_hand.c.location_id)
                          .where(locations.c.warehouse_id == warehouse_id)
                          .order_by(on_hand.c.item_id, locations.c.code)):
        stocked.setdefault(r.item_id, []).append(r.location_id)
    last: dict[str, date] = {}
    if stocked:
        for r in conn.execute(select(stock_moves.c.item_id, func.max(stock_moves.c.occurred_at).label("last"))
                              .where(stock_moves.c.site_id == site_id, stock_moves.c.kind == "count",
                                     stock_moves.c.item_id.in_(sorted(stocked)))
                              .group_by(stock_moves.c.item_id)):
            last[r.item_id] = r.last.date()
    history = [ItemCountHistory(item_id, classes.get(item_id), last.get(item_id)) for item_id in stocked]
    return history, stocked


def list_reorder_points(conn: Connection, *, site_id: str | None) -> list[ReorderPointView]:
    query = select(reorder_points).order_by(reorder_points.c.site_id, reorder_points.c.item_id)
    if site_id:
        query = query.where(reorder_points.c.site_id == site_id)
    return [ReorderPointView(r.item_id, r.site_id, r.reorder_point, r.reorder_quantity, r.max_level,
                             r.min_order_quantity, r.order_multiple, r.preferred_supplier_id, r.lead_time_days,
                             r.updated_at, r.updated_by) for r in conn.execute(query)]
