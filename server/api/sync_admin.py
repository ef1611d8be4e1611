"""HQ API over the sync engine: enrolled devices, their scope checksums, rejections and field conflicts.

Revoking a device is recorded in the audit log, with who did it, in the same transaction."""

from __future__ import annotations

from datetime import datetime, timezone

from litestar import Controller, Request, get, post
from litestar.di import Provide
from sqlalchemy import Connection

from server.audit import record, source_of
from erp.access.role_grants import read_role_grants
from server.db import Database
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.hq import provide_db
from sync import queries
from sync.errors import NotFound
from sync.queries import ConflictView, DeviceView, RejectionView, ScopeChecksumView


def revoke_device(conn: Connection, device_id: str, now: datetime, *, actor: str, source: str | None) -> DeviceView | None:
    """Revoke the device and record who did, in one transaction."""
    device = queries.revoke_device(conn, device_id, now)
    if device is not None:
        record(conn, action="device.revoked", actor=actor, device_id=device_id, site_id=device.site_id, source=source,
               subject=device_id, detail={"name": device.name, "revoked_at": device.revoked_at})
    return device


class SyncAdminController(Controller):
    path = "/api/v1"
    tags = ["sync"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/devices", opt={"permission": "admin.devices"})
    async def devices(self, db: Database, principal: Principal, site_id: str | None = None) -> list[DeviceView]:
        return await db.read(queries.list_devices, site_id=site_in_scope(principal, site_id))

    @post("/devices/{device_id:str}/revoke", status_code=200, opt={"permission": "admin.devices"})
    async def revoke(self, request: Request, db: Database, principal: Principal, device_id: str) -> DeviceView:
        """Revoke a device (a lost or stolen tablet): every sync request with its token is refused
        at once with ``sync.device_revoked``, which tells the device to wipe its replica."""
        await self._device_in_scope(db, principal, device_id)
        return await db.write(revoke_device, device_id, datetime.now(timezone.utc), actor=principal.username,
                              source=source_of(request))

    @staticmethod
    async def _device_in_scope(db: Database, principal: Principal, device_id: str) -> DeviceView:
        device = await db.read(queries.get_device, device_id)
        if device is None:
            raise NotFound("no such device", device_id=device_id)
        site_in_scope(principal, device.site_id)
        return device

    @get("/devices/{device_id:str}/checksum", opt={"permission": "admin.devices"})
    async def device_checksum(self, request: Request, db: Database, principal: Principal,
                              device_id: str) -> ScopeChecksumView:
        """Per-table row counts and fingerprints of what the device's replica must hold once it has
        nothing pending and has pulled up to ``version``; compare with ``jcerp edge verify``."""
        await self._device_in_scope(db, principal, device_id)  # before the costly read
        checksum = await db.read(queries.device_scope_checksum, request.app.state.registry, device_id,
                                 read_role_grants)
        if checksum is None:
            raise NotFound("no such device", device_id=device_id)
        return checksum

    @get("/rejections", opt={"permission": "sync.view"})
    async def rejections(
        self, db: Database, principal: Principal, status: str | None = None, device_id: str | None = None,
        site_id: str | None = None, code: str | None = None,
    ) -> list[RejectionView]:
        """Every mutation the server refused, with its reason and its arguments."""
        return await db.read(queries.list_rejections, status=status, device_id=device_id,
                             site_id=site_in_scope(principal, site_id), code=code)

    @get("/conflicts", opt={"permission": "sync.view"})
    async def conflicts(self, db: Database, principal: Principal, status: str | None = None,
                        device_id: str | None = None, site_id: str | None = None) -> list[ConflictView]:
        """Field conflicts of master data: both values and which one was kept."""
        return await db.read(queries.list_conflicts, status=status, device_id=device_id,
                             site_id=site_in_scope(principal, site_id))


CONTROLLERS = [SyncAdminController]
