"""Sites: the unit of device scope. A site code is unique and never reused."""

from __future__ import annotations

from typing import Literal

import msgspec
from sqlalchemy import Column, String, Table, select

from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column

SiteKind = Literal["factory", "warehouse", "branch"]

sites = Table(
    "sites",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    version_column(),
    field_versions_column(),
)


class CreateSite(msgspec.Struct, frozen=True):
    site_id: str
    code: str
    name: str
    kind: SiteKind


@mutation("org.create_site", 1, CreateSite)
def create_site(ctx: MutationContext, args: CreateSite) -> None:
    """Register a site (HQ only)."""
    taken = ctx.conn.execute(select(sites.c.id).where(sites.c.code == args.code)).first()
    if taken is not None:
        ctx.reject("org.site_code_taken", f"site code {args.code} is already used", site_code=args.code)
    ctx.insert(sites, {"id": args.site_id, "code": args.code, "name": args.name, "kind": args.kind})
