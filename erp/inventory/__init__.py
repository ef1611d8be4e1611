"""Inventory: items, warehouses and locations, the stock-move ledger, on-hand, counts.

Depends on ``org`` (sites). Tables and their sync semantics:

| table                | kind    | scope  |
|----------------------|---------|--------|
| units, items         | master  | shared |
| warehouses, locations| master  | site   |
| stock_moves          | ledger  | site   |
| on_hand              | derived | site   |
| lots, lot_on_hand    | derived | site   |
| serial_numbers       | derived | site   |
| inventory_exceptions | derived | site   |
| cycle_counts, cycle_count_lines | master | site |
| cycle_count_entries  | ledger  | site   |
| reorder_points       | master  | site   |
"""

from erp.inventory.cycle_count import (
    approve_cycle_count, cancel_cycle_count, create_cycle_count, cycle_count_entries, cycle_count_lines, cycle_counts,
    record_count, submit_cycle_count,
)
from erp.inventory.inventory_exception import inventory_exceptions, review_exception
from erp.inventory.item import create_item, create_unit, items, units, update_item
from erp.inventory.lot import hold_lot, lot_on_hand, lots, release_lot
from erp.inventory.on_hand import on_hand
from erp.inventory.reorder_point import reorder_points, set_reorder_point
from erp.inventory.serial_number import serial_numbers
from erp.inventory.stock_count import count
from erp.inventory.stock_move import adjust, issue, receive, reverse, stock_moves, transfer
from erp.inventory.stock_valuation import SERVER_ONLY
from erp.inventory.warehouse import create_location, create_warehouse, locations, update_warehouse, warehouses
from sync.registry import ModuleManifest
from sync.specs import ScopeKind, SyncKind, SyncSpec

MODULE = ModuleManifest(
    name="inventory",
    description="Items, warehouses, the stock-move ledger, on-hand and stock counts.",
    depends=("org",),
    mutations=(
        create_unit, create_item, update_item,
        create_warehouse, update_warehouse, create_location,
        receive, issue, transfer, adjust, reverse, count,
        review_exception,
        create_cycle_count, record_count, submit_cycle_count, approve_cycle_count, cancel_cycle_count,
        set_reorder_point,
        hold_lot, release_lot,
    ),
    sync_specs=(
        SyncSpec(units, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False, mergeable_fields=("name",)),
        SyncSpec(items, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False,
                 mergeable_fields=("name", "barcode", "active")),
        SyncSpec(warehouses, SyncKind.MASTER, ScopeKind.SITE, "site_id", device_may_insert=False,
                 mergeable_fields=("name", "negative_stock_policy")),
        SyncSpec(locations, SyncKind.MASTER, ScopeKind.SITE, "site_id", mergeable_fields=("name",)),
        SyncSpec(stock_moves, SyncKind.LEDGER, ScopeKind.SITE, "site_id"),
        SyncSpec(on_hand, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
        SyncSpec(inventory_exceptions, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
        SyncSpec(cycle_counts, SyncKind.MASTER, ScopeKind.SITE, "site_id", mergeable_fields=("note",)),
        SyncSpec(cycle_count_lines, SyncKind.MASTER, ScopeKind.SITE, "site_id", mergeable_fields=("counted_by",)),
        SyncSpec(cycle_count_entries, SyncKind.LEDGER, ScopeKind.SITE, "site_id"),
        SyncSpec(reorder_points, SyncKind.MASTER, ScopeKind.SITE, "site_id"),
        SyncSpec(lots, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
        SyncSpec(lot_on_hand, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
        SyncSpec(serial_numbers, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
    ),
    server_only_tables=SERVER_ONLY,  # stock valuation: the server values stock, devices do not
)
