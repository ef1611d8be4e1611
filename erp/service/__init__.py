"""After-sales service (售后): tickets for customers' complaints and the visits made for them.

A module of its own rather than part of sales: service offices are run by other people with
other permissions (``service.*``), a role may hold one without the other, and its tables
replicate to devices whose role may read service (``service.view``). It depends on ``sales``
for customers, contacts and sales orders (a device needs ``sales.view`` too, to hold the
customers it opens tickets for), and on ``org`` for sites.

| table           | kind   | scope | written by                                            |
|-----------------|--------|-------|-------------------------------------------------------|
| service_tickets | master | site  | HQ or a device of the site (ids from the device)      |
| service_visits  | ledger | site  | visits, on devices or at HQ                           |
"""

from erp.service.ticket import assign_ticket, close_ticket, open_ticket, reopen_ticket, resolve_ticket, service_tickets
from erp.service.visit import record_visit, service_visits
from sync.registry import ModuleManifest
from sync.specs import ScopeKind, SyncKind, SyncSpec

MODULE = ModuleManifest(
    name="service",
    description="After-sales service tickets and the visits made for them.",
    depends=("sales", "org"),
    mutations=(open_ticket, assign_ticket, record_visit, resolve_ticket, reopen_ticket, close_ticket),
    sync_specs=(
        SyncSpec(service_tickets, SyncKind.MASTER, ScopeKind.SITE, "site_id",
                 mergeable_fields=("contact_id", "item_id", "serial_no", "complaint")),
        SyncSpec(service_visits, SyncKind.LEDGER, ScopeKind.SITE, "site_id"),
    ),
)
