"""Inventory: items, warehouses and locations, the stock-move ledger, on-hand, counts.

Depends on ``org`` (sites). Tables and their sync semantics:

| table                | kind    | scope  |
|----------------------|---------|--------|
| units, items         | master  | shared |
| warehouses, locations| master  | site   |
| stock_moves          | ledger  | site   |
| on_hand              | derived | site   |
| inventory_exceptions | derived | site   |
"""

from erp.inventory.inventory_exception import inventory_exceptions, review_exception
from erp.inventory.item import create_item, create_unit, items, units, update_item
from erp.inventory.on_hand import on_hand
from erp.inventory.stock_count import count
from erp.inventory.stock_move import adjust, issue, receive, reverse, stock_moves, transfer
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
    ),
)
