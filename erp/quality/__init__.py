"""Quality: inspection plans, inspection results recorded offline, nonconformances, lot holds.

Depends on ``inventory`` (lots are held and released there, scrap is a stock issue),
``purchasing`` (incoming inspection of goods receipts), ``manufacturing`` (in-process and final
inspection of work orders) and ``org``. Tables and their sync semantics:

| table                  | kind    | scope  | written by                                        |
|------------------------|---------|--------|---------------------------------------------------|
| inspection_plans       | master  | shared | HQ: versioned, only name and active editable      |
| plan_characteristics   | master  | shared | HQ, with their plan version; never edited         |
| inspection_results     | ledger  | site   | inspectors, on devices (offline) or at HQ         |
| nonconformances        | derived | site   | raised by failed results or by hand; decided by   |
|                        |         |        | QC leads; the server's transition stands          |

Nonconformances are derived rather than master: every change to one is a state transition
validated against the row as the server has it (``nonconformance.transition``), never a field
edit to merge, and a device's optimistic copy is replaced by the server's on pull.

A tablet needs ``quality.view`` to hold the plans and its site's results and nonconformances,
and ``quality.record_result`` to record inspections.
"""

from erp.quality.lot_hold import hold_lot, release_lot
from erp.quality.nonconformance import close_ncr, disposition_ncr, nonconformances, raise_ncr
from erp.quality.plan import create_plan, inspection_plans, plan_characteristics, revise_plan, update_plan
from erp.quality.result import inspection_results, record_result
from sync.registry import ModuleManifest
from sync.specs import ScopeKind, SyncKind, SyncSpec

MODULE = ModuleManifest(
    name="quality",
    description="Inspection plans, inspection results, nonconformances and quality holds on lots.",
    depends=("inventory", "purchasing", "manufacturing", "org"),
    mutations=(
        create_plan, revise_plan, update_plan,
        record_result,
        raise_ncr, disposition_ncr, close_ncr,
        hold_lot, release_lot,
    ),
    sync_specs=(
        SyncSpec(inspection_plans, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False,
                 mergeable_fields=("name", "active")),
        # No mutation edits a characteristic (a revision is a new plan version); the merge
        # fields only say what a field-level edit could touch if one ever did.
        SyncSpec(plan_characteristics, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False,
                 mergeable_fields=("unit",)),
        SyncSpec(inspection_results, SyncKind.LEDGER, ScopeKind.SITE, "site_id"),
        SyncSpec(nonconformances, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
    ),
)
