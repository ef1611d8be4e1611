"""HQ API for the audit log: read it, and verify its hash chain. Both need ``admin.audit``.

Entries come oldest first; page on with ``after_seq=next_after_seq``. A user bound to a site
reads that site's entries only (entries without a site, such as sign-ins, are HQ's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import Parameter

from server.audit import queries
from server.audit.queries import AuditPage, ChainVerification
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import provide_db

Limit = Annotated[int, Parameter(ge=1, le=1000)]
AfterSeq = Annotated[int, Parameter(ge=0, le=2**63 - 1)]  # seq is a BIGINT on both databases


class AuditController(Controller):
    path = "/api/v1/admin/audit"
    tags = ["access"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt={"permission": "admin.audit"})
    async def entries(
        self, db: Database, principal: Principal, action: str | None = None, actor: str | None = None,
        device_id: str | None = None, site_id: str | None = None, subject: str | None = None,
        since: datetime | None = None, until: datetime | None = None, after_seq: AfterSeq = 0, limit: Limit = 100,
    ) -> AuditPage:
        """Entries oldest first, filtered. ``action`` is a name (``auth.login``) or a family
        (``auth.*``); ``since`` is inclusive, ``until`` exclusive."""
        return await db.read(queries.list_entries, action=action, actor=actor, device_id=device_id,
                             site_id=site_in_scope(principal, site_id), subject=subject, since=since, until=until,
                             after_seq=after_seq, limit=limit)

    @get("/verify", opt={"permission": "admin.audit"})
    async def verify(self, db: Database) -> ChainVerification:
        """Recompute the whole chain in one snapshot: ``ok``, or the first seq where it breaks."""
        return await db.read(queries.verify_chain)


CONTROLLERS = [AuditController]
