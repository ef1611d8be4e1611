"""HQ API for stock valuation: what each site's stock is worth, item by item, by its method.

A read-only report (``erp.inventory.valuation_report``) over the server's derived valuation
tables. A user bound to a site sees that site only.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import Parameter

from erp.inventory.valuation_report import ValuationReport, valuation_report
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import provide_db

Month = Annotated[str | None, Parameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM (UTC)")]


class ValuationController(Controller):
    path = "/api/v1"
    tags = ["inventory"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/inventory/valuation", opt={"permission": "inventory.view"})
    async def valuation(self, db: Database, principal: Principal, site_id: str | None = None,
                        month: Month = None) -> ValuationReport:
        """Stock value per site and item as of now; with ``month``, month-end weighted items as of
        that month's end."""
        return await db.read(valuation_report, site_id=site_in_scope(principal, site_id), month=month)


CONTROLLERS = [ValuationController]
