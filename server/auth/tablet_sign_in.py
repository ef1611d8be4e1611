"""Sign-in on a shared device (``POST /sync/v1/sign-in``): an enrolled device checks a user's
password with headquarters, and learns enough to sign that user in offline later.

Invariants:
- The password is checked by ``AuthService.check_credentials``: the HQ lockout applies, and
  wrong passwords typed on devices and at HQ count toward the same lockout.
- No HQ session is opened and no token is returned: the answer lets nobody call the HQ API.
  What the user then does on the device is pushed as mutations naming them, and
  ``server/auth/device_access.py`` checks their account again as it applies each one.
- A wrong password, an unknown user and a disabled user all answer ``auth.invalid_credentials``,
  as HQ sign-in does. Only after a right password is a refusal more specific:
  ``auth.user_out_of_site`` for a user bound to another site than the device's, and
  ``auth.no_usable_permission`` for a user none of whose business mutations the device's role
  allows (the inbox mutations every role holds, ``sync.*``, do not count: signing in to do
  nothing but answer the inbox is not a reason to keep a verifier on a tablet).
- ``valid_until`` is ``OFFLINE_SIGN_IN_VALIDITY`` from now: how long the device may sign the
  user in offline with the password it just saw, before it must ask again.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, select

from erp.access.errors import NothingUsableOnDevice, UserOutOfSite
from erp.access.permissions import allowed
from erp.access.tables import hq_roles
from protocol.sign_in import SignInRequest, SignInResponse
from server.auth.service import AuthService
from server.sync_service import Device, check_versions
from sync.errors import OutOfScope, ProtocolError
from sync.registry import Registry
from sync.schema import sync_devices
from sync.validation import first_problem

OFFLINE_SIGN_IN_VALIDITY = timedelta(days=14)
# Longer names cannot exist (hq_users.username is 120 characters); a bounded answer costs the same.
MAX_USERNAME = 120


def usable_mutations(registry: Registry, user_grants: frozenset[str], device_grants: frozenset[str]) -> list[str]:
    """The business mutations (not the ``sync.*`` inbox) both the user and the device may run."""
    return sorted(name for name in registry.latest
                  if not name.startswith("sync.") and allowed(user_grants, name) and allowed(device_grants, name))


class TabletSignIn:
    def __init__(self, auth: AuthService) -> None:
        self.auth = auth

    def _device_grants(self, conn: Connection, device_id: str) -> tuple[str, frozenset[str]]:
        role = conn.execute(select(sync_devices.c.role_code).where(sync_devices.c.id == device_id)).scalar_one()
        texts = conn.execute(select(hq_roles.c.grants_json).where(hq_roles.c.code == role)).scalars()
        return role, frozenset(grant for text in texts for grant in json.loads(text))

    async def sign_in(self, device: Device, request: SignInRequest) -> SignInResponse:
        check_versions(request.protocol_version, request.schema_version)
        if request.device_id != device.id:
            raise OutOfScope("the request names another device than the token's", code="sync.device_mismatch")
        if first_problem(request) is not None:
            raise ProtocolError("user name and password must be text without U+0000", code="sync.invalid_message")
        # An impossible name still costs a password check, so its answer takes as long as any.
        username = request.username if len(request.username) <= MAX_USERNAME else ""
        principal = await self.auth.check_credentials(username, request.password, source=f"device:{device.id}")
        if principal.site_id is not None and principal.site_id != device.site_id:
            raise UserOutOfSite(f"{principal.username} works at another site and cannot sign in on this device",
                                user=principal.username)
        role, device_grants = await self.auth.db.read(self._device_grants, device.id)
        if not usable_mutations(self.auth.registry, principal.grants, device_grants):
            raise NothingUsableOnDevice(
                f"this device is enrolled as {role}, which allows none of {principal.username}'s work",
                user=principal.username, device_role=role)
        return SignInResponse(
            user_id=principal.user_id, username=principal.username, display_name=principal.display_name,
            site_id=principal.site_id, roles=list(principal.roles), permissions=sorted(principal.grants),
            valid_until=datetime.now(timezone.utc) + OFFLINE_SIGN_IN_VALIDITY,
        )
