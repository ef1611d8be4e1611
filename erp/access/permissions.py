"""The permission catalog and the built-in roles.

A permission is ``<module>.<action>``. Every registered mutation is a permission of its own
name (``inventory.receive``), so a new mutation is covered the day it is written; each module
with a manifest also has ``<module>.view`` for reading its HQ API and for replicating its tables
to a device; a module may declare more in its manifest (``hr.view_personal``); and a few
permissions guard administration. A role grants permissions by exact name or by pattern:
``inventory.*`` (every permission of a module, present or future) or ``*`` (everything).

Invariants:
- The catalog is derived from the mutation registry and the manifests; nothing lists
  mutations by hand, so none can be left out.
- Built-in roles cannot be edited or deleted; custom roles can, through the admin API.
- Deny by default: a permission nobody granted is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.registry import Registry
# The matching rule is the sync engine's too (which tables and fields a device receives).
from sync.visibility import allowed, grants_permission

__all__ = ["ADMIN_PERMISSIONS", "BUILTIN_BY_CODE", "BUILTIN_ROLES", "Role", "allowed", "catalog",
           "grants_permission", "valid_grant"]

ADMIN_PERMISSIONS = {
    "admin.users": "manage users and roles",
    "admin.devices": "list and manage enrolled devices",
    "admin.audit": "read the audit log and verify its hash chain",
}


@dataclass(frozen=True)
class Role:
    code: str
    name: str  # zh-CN first, as users see it
    grants: tuple[str, ...]
    builtin: bool = True


def _sync_inbox() -> tuple[str, ...]:
    return ("sync.resolve_rejection", "sync.acknowledge_conflict")


BUILTIN_ROLES: tuple[Role, ...] = (
    Role("warehouse_clerk", "仓库管理员 Warehouse clerk",
         ("org.view", "inventory.view", "inventory.receive", "inventory.issue", "inventory.transfer",
          "inventory.count", "inventory.record_count", "inventory.submit_cycle_count",
          "purchasing.view", "purchasing.receive_po", "purchasing.return_to_supplier",
          "sales.view", "sales.deliver", "sales.return_from_customer", *_sync_inbox())),
    Role("shop_floor_operator", "车间操作工 Shop-floor operator",
         ("org.view", "inventory.view", "inventory.issue", "manufacturing.view", "manufacturing.report_*",
          "manufacturing.issue_material", "manufacturing.return_material", *_sync_inbox())),
    Role("qc_inspector", "质检员 QC inspector", ("org.view", "inventory.view", "quality.*", *_sync_inbox())),
    Role("buyer", "采购员 Buyer", ("org.view", "inventory.view", "purchasing.*", *_sync_inbox())),
    Role("sales_clerk", "销售员 Sales clerk",
         ("org.view", "org.reserve_numbers", "inventory.view", "sales.*", "service.*", *_sync_inbox())),
    Role("accountant", "会计 Accountant", ("org.view", "inventory.view", "finance.*", "sync.view")),
    Role("hr_officer", "人事专员 HR officer", ("org.view", "hr.*")),
    Role("branch_manager", "分支经理 Branch manager",
         ("org.view", "org.reserve_numbers", "inventory.*", "purchasing.*", "sales.*", "service.*",
          "manufacturing.*", "quality.*", "sync.*", "admin.devices")),
    Role("hq_admin", "总部管理员 HQ administrator", ("*",)),
)
BUILTIN_BY_CODE = {role.code: role for role in BUILTIN_ROLES}


def catalog(registry: Registry) -> dict[str, str]:
    """Every permission that exists today, with what it allows."""
    permissions: dict[str, str] = {}
    for manifest in registry.modules:
        permissions[f"{manifest.name}.view"] = f"read the {manifest.name} HQ API and replicate its tables"
        permissions.update(manifest.permissions)
    for definition in registry.latest.values():
        permissions[definition.name] = (definition.description or definition.name).splitlines()[0]
    permissions.update(ADMIN_PERMISSIONS)
    return dict(sorted(permissions.items()))


def valid_grant(grant: str, known: dict[str, str]) -> bool:
    """A grant must name a permission that exists, or be a pattern (``module.*``, ``*``)."""
    return grant == "*" or grant in known or (grant.endswith(".*") and grant.count(".") == 1 and len(grant) > 2)
