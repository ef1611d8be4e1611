"""Purchasing: suppliers, purchase orders, goods receipts and returns against them.

Depends on ``inventory`` (receipts are stock moves) and ``org`` (orders belong to the
receiving site). Tables and their sync semantics:

| table                   | kind    | scope  | written by                                   |
|-------------------------|---------|--------|----------------------------------------------|
| suppliers               | master  | shared | HQ                                           |
| purchase_orders         | master  | site   | HQ creates; decisions and receipts change it |
| purchase_order_lines    | master  | site   | HQ creates; receipts write quantities back   |
| po_receipts             | ledger  | site   | receipts and returns, on devices or at HQ    |
| purchasing_exceptions   | derived | site   | receipts and returns that need a buyer       |

A warehouse tablet needs ``purchasing.view`` to hold the open orders of its site, and
``purchasing.receive_po`` / ``purchasing.return_to_supplier`` to record against them.
"""

from erp.purchasing.goods_receipt import po_receipts, receive_po, return_to_supplier
from erp.purchasing.purchase_order import approve_po, cancel_po, close_po, create_po, purchase_order_lines, purchase_orders
from erp.purchasing.purchasing_exception import purchasing_exceptions, review_exception
from erp.purchasing.supplier import create_supplier, suppliers, update_supplier
from sync.registry import ModuleManifest
from sync.specs import ScopeKind, SyncKind, SyncSpec

MODULE = ModuleManifest(
    name="purchasing",
    description="Suppliers, purchase orders, goods receipts and purchase returns.",
    depends=("inventory", "org"),
    mutations=(
        create_supplier, update_supplier,
        create_po, approve_po, cancel_po, close_po,
        receive_po, return_to_supplier,
        review_exception,
    ),
    sync_specs=(
        SyncSpec(suppliers, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False,
                 mergeable_fields=("name", "contact", "active")),
        SyncSpec(purchase_orders, SyncKind.MASTER, ScopeKind.SITE, "site_id", device_may_insert=False,
                 mergeable_fields=("expected_at", "note")),
        SyncSpec(purchase_order_lines, SyncKind.MASTER, ScopeKind.SITE, "site_id", device_may_insert=False,
                 mergeable_fields=("unit_price",)),
        SyncSpec(po_receipts, SyncKind.LEDGER, ScopeKind.SITE, "site_id"),
        SyncSpec(purchasing_exceptions, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
    ),
)
