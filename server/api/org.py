"""HQ API for sites."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, get, post
from litestar.di import Provide
from sqlalchemy import Connection, select

from erp.org.site import CreateSite, sites
from server.db import Database
from server.hq import HqCommands, provide_db, provide_hq
from sync.ids import new_id


class SiteView(msgspec.Struct):
    id: str
    code: str
    name: str
    kind: str


class NewSite(msgspec.Struct):
    code: str
    name: str
    kind: Literal["factory", "warehouse", "branch"]
    id: str | None = None


def _list_sites(conn: Connection) -> list[SiteView]:
    return [SiteView(r.id, r.code, r.name, r.kind) for r in conn.execute(select(sites).order_by(sites.c.code))]


class SiteController(Controller):
    path = "/api/v1/sites"
    tags = ["org"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False)}

    @get("/", opt={"permission": "org.view"})
    async def list_sites(self, db: Database) -> list[SiteView]:
        return await db.read(_list_sites)

    @post("/", opt={"permission": "org.create_site"})
    async def create_site(self, data: NewSite, hq: HqCommands) -> SiteView:
        site_id = data.id or new_id()
        await hq.run("org.create_site", CreateSite(site_id=site_id, code=data.code, name=data.name, kind=data.kind))
        return SiteView(site_id, data.code, data.name, data.kind)


CONTROLLERS = [SiteController]
