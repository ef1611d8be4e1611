"""What a role may see of the replicated tables: which tables, and which personal fields.

A role is a set of grants (``erp/access/permissions.py``): permission names (``hr.view``) or
patterns (``inventory.*``, ``*``). The engine filters what it sends a device by them, so the
matching rule lives here, beside the engine, and the access module re-exports it.

Invariants:
- Deny by default: a permission no grant matches is refused, and empty grants see only the
  engine's own inbox tables.
- A device replicates a table only if its role may read the table's module (``<module>.view``);
  the engine's own per-device tables (rejections, conflicts: module ``sync``) always, since they
  are how a device learns what happened to its own work.
- A personal field (``SyncSpec.personal_fields``: column → permission) the role lacks is sent,
  fingerprinted and listed as NULL. Pull, bootstrap, the server's scope checksum and HQ reads
  all derive what is hidden from these two functions, so they can never disagree.
"""

from __future__ import annotations

from typing import Iterable

from sync.registry import Registry
from sync.specs import SyncSpec

# Modules whose tables every device replicates whatever its role.
ALWAYS_VISIBLE_MODULES = frozenset({"sync"})


def grants_permission(grant: str, permission: str) -> bool:
    """True if one grant (a name, ``module.*`` or ``*``) covers ``permission``."""
    if grant == "*" or grant == permission:
        return True
    return grant.endswith("*") and permission.startswith(grant[:-1])


def allowed(grants: Iterable[str], permission: str) -> bool:
    return any(grants_permission(grant, permission) for grant in grants)


def module_visible(module: str, grants: Iterable[str]) -> bool:
    return module in ALWAYS_VISIBLE_MODULES or allowed(grants, f"{module}.view")


def visible_tables(registry: Registry, grants: Iterable[str]) -> list[SyncSpec]:
    """The specs of the tables a role replicates, in the registry's order."""
    grants = tuple(grants)
    return [spec for spec in registry.ordered_specs() if module_visible(registry.module_of(spec.name), grants)]


def masked_fields(spec: SyncSpec, grants: Iterable[str]) -> frozenset[str]:
    """The personal fields of ``spec`` that holders of ``grants`` may not see."""
    if not spec.personal_fields:
        return frozenset()
    grants = tuple(grants)
    return frozenset(name for name, permission in spec.personal_fields.items() if not allowed(grants, permission))
