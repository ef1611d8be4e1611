"""HQ API over the sync engine: enrolled devices, their scope checksums, rejections and field conflicts."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import Provide

from server.db import Database
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.hq import provide_db
from sync import queries
from sync.errors import NotFound
from sync.queries import ConflictView, DeviceView, RejectionView, ScopeChecksumView


class SyncAdminController(Controller):
    path = "/api/v1"
    tags = ["sync"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/devices", opt={"permission": "admin.devices"})
    async def devices(self, db: Database, principal: Principal, site_id: str | None = None) -> list[DeviceView]:
        return await db.read(queries.list_devices, site_id=site_in_scope(principal, site_id))

    @get("/devices/{device_id:str}/checksum", opt={"permission": "admin.devices"})
    async def device_checksum(self, request: Request, db: Database, principal: Principal,
                              device_id: str) -> ScopeChecksumView:
        """Per-table row counts and fingerprints of what the device's replica must hold once it has
        nothing pending and has pulled up to ``version``; compare with ``jcerp edge verify``."""
        checksum = await db.read(queries.device_scope_checksum, request.app.state.registry, device_id)
        if checksum is None:
            raise NotFound("no such device", device_id=device_id)
        site_in_scope(principal, checksum.site_id)
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
