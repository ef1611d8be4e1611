"""Organisation: the sites (factories, warehouses, branches) that scope every device.

Sites are shared master data created at HQ; every device receives all of them so it can show
names, but it writes only rows of the one site it is enrolled for. Each site numbers the
documents its devices create from its own series; a device draws from blocks the server
reserved for it (number_series.py): ``number_series`` is the server's counter and never leaves
it, ``number_blocks`` is derived and device-scoped.
"""

from erp.org.number_series import number_blocks, reserve_numbers
from erp.org.site import create_site, sites
from sync.registry import ModuleManifest
from sync.specs import ScopeKind, SyncKind, SyncSpec

MODULE = ModuleManifest(
    name="org",
    description="Sites: factories, warehouses and branch offices; the document-number series of each.",
    mutations=(create_site, reserve_numbers),
    sync_specs=(
        SyncSpec(sites, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False, mergeable_fields=("name",)),
        # Each device receives the number blocks the server reserved for it (number_series.py).
        SyncSpec(number_blocks, SyncKind.DERIVED, ScopeKind.DEVICE, "device_id"),
    ),
    server_only_tables=("number_series",),
)
