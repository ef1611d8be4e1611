"""Organisation: the sites (factories, warehouses, branches) that scope every device.

Sites are shared master data created at HQ; every device receives all of them so it can show
names, but it writes only rows of the one site it is enrolled for.
"""

from erp.org.site import create_site, sites
from sync.registry import ModuleManifest
from sync.specs import ScopeKind, SyncKind, SyncSpec

MODULE = ModuleManifest(
    name="org",
    description="Sites: factories, warehouses and branch offices.",
    mutations=(create_site,),
    sync_specs=(SyncSpec(sites, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False, mergeable_fields=("name",)),),
)
