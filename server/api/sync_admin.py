"""HQ API over the sync engine: enrolled devices, rejections and field conflicts."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide

from server.db import Database
from server.hq import provide_db
from sync import queries
from sync.queries import ConflictView, DeviceView, RejectionView


class SyncAdminController(Controller):
    path = "/api/v1"
    tags = ["sync"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False)}

    @get("/devices")
    async def devices(self, db: Database, site_id: str | None = None) -> list[DeviceView]:
        return await db.read(queries.list_devices, site_id=site_id)

    @get("/rejections")
    async def rejections(
        self, db: Database, status: str | None = None, device_id: str | None = None, site_id: str | None = None,
        code: str | None = None,
    ) -> list[RejectionView]:
        """Every mutation the server refused, with its reason and its arguments."""
        return await db.read(queries.list_rejections, status=status, device_id=device_id, site_id=site_id, code=code)

    @get("/conflicts")
    async def conflicts(self, db: Database, status: str | None = None, device_id: str | None = None) -> list[ConflictView]:
        """Field conflicts of master data: both values and which one was kept."""
        return await db.read(queries.list_conflicts, status=status, device_id=device_id)


CONTROLLERS = [SyncAdminController]
