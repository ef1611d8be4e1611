"""Manufacturing: master data (BOMs, work centres, routings), work orders, shop-floor reporting,
backflush and work-order costing; the pure MRP calculator, the MRP service around it, one-call
conversion of planned orders, and capacity load per work centre.

Depends on ``inventory`` (material and finished goods move through its stock-move ledger),
``org`` (work centres, routings and orders belong to a site), and, for planning, ``purchasing``
and ``sales`` (open purchase and sales orders are supply and demand; purchase proposals become
draft purchase orders through ``purchasing.create_po``). Tables and their sync semantics:

| table                 | kind    | scope  | written by                                         |
|-----------------------|---------|--------|----------------------------------------------------|
| working_calendars     | master  | shared | HQ                                                 |
| item_standard_costs   | master  | shared | HQ (until finance values stock)                    |
| boms, bom_lines       | master  | shared | HQ; a released BOM never changes                   |
| work_centres          | master  | site   | HQ                                                 |
| routings, routing_operations | master | site | HQ                                            |
| work_orders           | derived | site   | HQ creates and decides; shop-floor facts update it |
| wo_materials          | derived | site   | created with the order; issues and backflush update it |
| wo_operations         | derived | site   | created with the order; recomputed from reports    |
| wo_operation_reports  | ledger  | site   | shop-floor tablets (or HQ)                         |
| wo_exceptions         | derived | site   | facts against orders not open for them             |
| item_planning, demand_forecasts, mrp_runs, planned_orders, planned_order_pegs | server only | — | HQ planners |

The planning tables never replicate: no device plans, and what a plan leads to (purchase and
work orders) replicates as those documents. They are written with plain SQL by the planning
services (``item_planning``, ``demand_forecast``, ``mrp_run``, ``planned_order``), which the HQ
API guards with ``manufacturing.plan`` and records in the audit log; conversion creates its
documents through the same mutations as everyone else (``planned_order_conversion``).

Material moves (issue, top-up, return, backflush, finished-goods receipt) are inventory stock
moves with ``document_id`` = the work order; their kinds (``wo_*``) are listed in
``material_issue.py``.

Files, one concept each: ``calendars``, ``standard_cost``, ``bom`` (versions and their states),
``bom_explosion`` (pure), ``work_centre``, ``routing``, ``work_order_status`` (the pure state
machine), ``work_order``, ``work_order_exception``, ``material_issue``, ``operation_report``,
``completion``, ``costing`` (pure), ``queries``, ``checks``, ``errors``. The MRP calculator
(no tables, no I/O): ``working_calendar``, ``lot_sizing``, ``low_level_codes``,
``planning_data``, ``mrp``, ``pegging``. Planning on top of it: ``item_planning``,
``demand_forecast``, ``mrp_run``, ``planned_order``, ``planned_order_conversion``, ``capacity``
(pure), ``planning_queries``.

A shop-floor tablet needs ``manufacturing.view`` to hold its site's orders; operators report
with ``manufacturing.report_operation`` and ``manufacturing.report_completion`` (the built-in
operator role grants ``manufacturing.report_*``, and the material issue and return).
"""

from erp.manufacturing.bom import (
    add_bom_line, bom_lines, boms, create_bom, new_bom_version, obsolete_bom, release_bom, remove_bom_line,
    update_bom_line,
)
from erp.manufacturing.calendars import create_working_calendar, update_working_calendar, working_calendars
from erp.manufacturing.completion import report_completion
from erp.manufacturing.demand_forecast import demand_forecasts
from erp.manufacturing.item_planning import item_planning
from erp.manufacturing.material_issue import issue_material, return_material, top_up_material
from erp.manufacturing.mrp_run import mrp_runs
from erp.manufacturing.operation_report import report_operation, reverse_report, wo_operation_reports
from erp.manufacturing.planned_order import planned_order_pegs, planned_orders
from erp.manufacturing.routing import add_routing_operation, create_routing, routing_operations, routings, update_routing
from erp.manufacturing.standard_cost import item_standard_costs, set_standard_cost
from erp.manufacturing.work_centre import create_work_centre, update_work_centre, work_centres
from erp.manufacturing.work_order import (
    cancel_work_order, close_work_order, create_work_order, finish_work_order, release_work_order, wo_materials,
    wo_operations, work_orders,
)
from erp.manufacturing.work_order_exception import review_exception, wo_exceptions
from sync.registry import ModuleManifest
from sync.specs import ScopeKind, SyncKind, SyncSpec

PLAN = "manufacturing.plan"

MODULE = ModuleManifest(
    name="manufacturing",
    description="BOMs, work centres, routings, work orders, shop-floor reports, backflush, costing, MRP and "
                "capacity planning.",
    depends=("inventory", "org", "purchasing", "sales"),
    mutations=(
        create_working_calendar, update_working_calendar, set_standard_cost,
        create_bom, new_bom_version, add_bom_line, update_bom_line, remove_bom_line, release_bom, obsolete_bom,
        create_work_centre, update_work_centre, create_routing, add_routing_operation, update_routing,
        create_work_order, release_work_order, cancel_work_order, finish_work_order, close_work_order,
        issue_material, top_up_material, return_material,
        report_operation, reverse_report, report_completion,
        review_exception,
    ),
    sync_specs=(
        SyncSpec(working_calendars, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False,
                 mergeable_fields=("name", "working_weekdays", "holidays", "extra_working_days")),
        SyncSpec(item_standard_costs, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False,
                 mergeable_fields=("standard_cost",)),
        SyncSpec(boms, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False, mergeable_fields=("note",)),
        SyncSpec(bom_lines, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False,
                 mergeable_fields=("quantity_per", "scrap_factor", "phantom", "backflush")),
        SyncSpec(work_centres, SyncKind.MASTER, ScopeKind.SITE, "site_id", device_may_insert=False,
                 mergeable_fields=("name", "calendar_id", "capacity_hours_per_day", "labour_rate",
                                   "overhead_rate", "active")),
        SyncSpec(routings, SyncKind.MASTER, ScopeKind.SITE, "site_id", device_may_insert=False,
                 mergeable_fields=("name", "active")),
        SyncSpec(routing_operations, SyncKind.MASTER, ScopeKind.SITE, "site_id", device_may_insert=False,
                 mergeable_fields=("name",)),
        SyncSpec(work_orders, SyncKind.DERIVED, ScopeKind.SITE, "site_id", device_may_insert=False),
        SyncSpec(wo_materials, SyncKind.DERIVED, ScopeKind.SITE, "site_id", device_may_insert=False),
        SyncSpec(wo_operations, SyncKind.DERIVED, ScopeKind.SITE, "site_id", device_may_insert=False),
        SyncSpec(wo_operation_reports, SyncKind.LEDGER, ScopeKind.SITE, "site_id"),
        SyncSpec(wo_exceptions, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
    ),
    server_only_tables=(item_planning.name, demand_forecasts.name, mrp_runs.name, planned_orders.name,
                        planned_order_pegs.name),
    permissions={
        PLAN: "run MRP, set items' planning parameters and forecasts, and convert planned orders "
              "(the documents are created with the purchasing and work-order permissions as well)",
    },
)
