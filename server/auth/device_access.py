"""What a device's pushed mutations may do: its enrolled role, and the user signed in on it.

Checked by the server when it applies each mutation (``sync.server_apply.apply_push``), so a
refusal is a stored rejection with a reason, delivered to the device's inbox and listed at HQ,
and never blocks the mutations after it.

Invariants:
- A device's role (from its enrollment code) bounds everything pushed from it, whoever is
  signed in: a clerk's tablet cannot adjust stock even if a manager uses it.
- A device pushes mutations only of modules whose tables its role replicates
  (``<module>.view``): it could not have run one on its replica, and its effects would land in
  rows it may not see. Built-in roles never grant one without the other; a custom role that
  does gets ``auth.device_role_cannot_view``.
- What the device and its user hold together bounds the personal fields a mutation may write
  (``check`` returns it; ``sync/context.py`` refuses the write with
  ``sync.personal_field_forbidden``).
- A mutation naming a user needs that user to exist, to be allowed at the device's site, and to
  hold the permission now. A user disabled at HQ keeps the work recorded before they were
  disabled (by the mutation's own clock, its HLC); what they recorded afterwards, offline or
  not, is rejected with ``auth.user_disabled``.
- Lookups are made once per batch: a batch carries one device and a few users.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from sqlalchemy import Connection, select

from erp.access.permissions import allowed
from erp.access.tables import hq_roles, hq_user_roles, hq_users
from protocol.push import MutationEnvelope
from sync.errors import MutationRejected
from sync.visibility import module_visible


def _hlc_moment(hlc: str) -> datetime | None:
    """The physical time an HLC text starts with (milliseconds since the epoch)."""
    head = hlc.split("-", 1)[0]
    if not head.isdigit():
        return None
    return datetime.fromtimestamp(int(head) / 1000, tz=timezone.utc)


class DeviceAccess:
    def __init__(self, conn: Connection, device: Mapping[str, Any]) -> None:
        self.conn = conn
        self.site_id = device["site_id"]
        self.role = device["role_code"]
        self.device_grants = self._role_grants([self.role])
        self._users: dict[str, Any] = {}

    def _role_grants(self, roles: list[str]) -> frozenset[str]:
        rows = self.conn.execute(select(hq_roles.c.grants_json).where(hq_roles.c.code.in_(roles))).scalars()
        return frozenset(grant for text in rows for grant in json.loads(text))

    def _user(self, username: str) -> Any:
        if username not in self._users:
            user = self.conn.execute(select(hq_users).where(hq_users.c.username == username)).first()
            grants = frozenset()
            if user is not None:
                roles = list(self.conn.execute(select(hq_user_roles.c.role_code)
                                               .where(hq_user_roles.c.user_id == user.id)).scalars())
                grants = self._role_grants(roles)
            self._users[username] = (user, grants)
        return self._users[username]

    def check(self, envelope: MutationEnvelope) -> Callable[[str], bool]:
        """Raise ``MutationRejected`` if this mutation may not be applied for this device and user;
        otherwise return whether both hold a permission (for the personal-field rule)."""
        name = envelope.name
        if not allowed(self.device_grants, name):
            raise MutationRejected(f"this device is enrolled as {self.role}, which does not allow {name}",
                                   code="auth.device_role_forbids", role=self.role, permission=name)
        module = name.split(".", 1)[0]
        if not module_visible(module, self.device_grants):
            raise MutationRejected(f"this device is enrolled as {self.role}, which does not receive the {module} "
                                   f"tables, so it may not change them", code="auth.device_role_cannot_view",
                                   role=self.role, permission=f"{module}.view")
        device_grants = self.device_grants
        if not envelope.user:
            return lambda permission: allowed(device_grants, permission)
        user, grants = self._user(envelope.user)
        if user is None:
            raise MutationRejected(f"there is no user {envelope.user!r} at headquarters",
                                   code="auth.unknown_user", user=envelope.user)
        if not user.active:
            recorded = _hlc_moment(envelope.hlc)
            if user.disabled_at is None or recorded is None or recorded >= user.disabled_at:
                raise MutationRejected(f"{envelope.user} was disabled at headquarters before recording this",
                                       code="auth.user_disabled", user=envelope.user,
                                       disabled_at=user.disabled_at.isoformat() if user.disabled_at else None)
        if user.site_id is not None and user.site_id != self.site_id:
            raise MutationRejected(f"{envelope.user} may work at their own site only",
                                   code="auth.user_out_of_site", user=envelope.user)
        if not allowed(grants, name):
            raise MutationRejected(f"{envelope.user}'s role does not allow {name}", code="auth.user_forbidden",
                                   user=envelope.user, permission=name)
        return lambda permission: allowed(device_grants, permission) and allowed(grants, permission)
