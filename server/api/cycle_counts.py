"""HQ API for cycle counts (盘点): create (by hand, or the items due by ABC class), count, review, decide.

Writes run the inventory module's own mutations (``HqCommands``), the same a branch's tablet
runs offline; reads call ``erp.inventory.count_queries``. A user bound to a site sees and
changes that site's counts only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.di import Provide
from litestar.params import Parameter

from erp.inventory import count_queries
from erp.inventory.count_policy import due_for_count
from erp.inventory.count_queries import CycleCountView, VarianceView
from erp.inventory.cycle_count import (
    ApproveCycleCount, CancelCycleCount, CreateCycleCount, NewCountLine, RecordCount, SubmitCycleCount,
)
from erp.inventory.queries import list_warehouses
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands, provide_db, provide_hq
from sync.errors import InvalidArguments, NotFound
from sync.ids import new_id

Limit = Annotated[int, Parameter(ge=1, le=1000)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]


class LineToCount(msgspec.Struct):
    item_id: str
    location_id: str
    lot_no: str | None = None
    id: str | None = None


class NewCycleCount(msgspec.Struct):
    """Either the lines to count, or ``abc_classes`` (item id → A/B/C): then the items stocked in
    the warehouse that are due for a count (at most ``due_limit``), at every location holding them."""

    warehouse_id: str
    number: str
    lines: list[LineToCount] = []
    abc_classes: dict[str, Literal["A", "B", "C"]] = {}
    due_limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    note: str | None = None
    id: str | None = None


class CountedLine(msgspec.Struct):
    """A counted quantity for one line; ``occurred_at`` defaults to now."""

    line_id: str
    counted_quantity: Decimal
    occurred_at: Moment | None = None
    id: str | None = None


class Cancellation(msgspec.Struct):
    reason: str = ""


class CycleCountController(Controller):
    path = "/api/v1"
    tags = ["inventory"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/cycle-counts", opt={"permission": "inventory.view"})
    async def list_counts(self, db: Database, principal: Principal, site_id: str | None = None,
                          status: str | None = None, limit: Limit = 100,
                          after: str | None = None) -> list[CycleCountView]:
        """Cycle counts by id with their lines (``after`` = the last id seen)."""
        return await db.read(count_queries.list_cycle_counts, site_id=site_in_scope(principal, site_id),
                             status=status, limit=limit, after=after)

    @get("/cycle-counts/{count_id:str}", opt={"permission": "inventory.view"})
    async def get_count(self, count_id: str, db: Database, principal: Principal) -> CycleCountView:
        """One count with its lines (counted, system, difference) and every count entry."""
        return await self._count(count_id, db, principal)

    @post("/cycle-counts", opt={"permission": "inventory.create_cycle_count"})
    async def create_count(self, data: NewCycleCount, hq: HqCommands, db: Database,
                           principal: Principal) -> CycleCountView:
        lines = [NewCountLine(line.id or new_id(), line.item_id, line.location_id, line.lot_no) for line in data.lines]
        if not lines and data.abc_classes:
            lines = await self._due_lines(data, db, principal)
        count_id = data.id or new_id()
        await hq.run("inventory.create_cycle_count", CreateCycleCount(count_id, data.warehouse_id, data.number, lines,
                                                                      data.note))
        return await self._count(count_id, db, principal)

    @post("/cycle-counts/{count_id:str}/counts", opt={"permission": "inventory.record_count"})
    async def record(self, count_id: str, data: CountedLine, hq: HqCommands, db: Database,
                     principal: Principal) -> CycleCountView:
        document = await self._count(count_id, db, principal)
        if all(line.id != data.line_id for line in document.lines):
            raise NotFound("this cycle count has no such line", count_id=count_id, line_id=data.line_id)
        await hq.run("inventory.record_count", RecordCount(
            data.id or new_id(), data.line_id, data.counted_quantity, data.occurred_at or datetime.now(timezone.utc)))
        return await self._count(count_id, db, principal)

    @post("/cycle-counts/{count_id:str}/submit", status_code=200, opt={"permission": "inventory.submit_cycle_count"})
    async def submit(self, count_id: str, hq: HqCommands, db: Database, principal: Principal) -> CycleCountView:
        await self._count(count_id, db, principal)
        await hq.run("inventory.submit_cycle_count", SubmitCycleCount(count_id))
        return await self._count(count_id, db, principal)

    @post("/cycle-counts/{count_id:str}/approve", status_code=200, opt={"permission": "inventory.approve_cycle_count"})
    async def approve(self, count_id: str, hq: HqCommands, db: Database, principal: Principal) -> CycleCountView:
        """Accept the counts: every counted line's difference becomes a ``count`` stock move."""
        await self._count(count_id, db, principal)
        await hq.run("inventory.approve_cycle_count", ApproveCycleCount(count_id))
        return await self._count(count_id, db, principal)

    @post("/cycle-counts/{count_id:str}/cancel", status_code=200, opt={"permission": "inventory.cancel_cycle_count"})
    async def cancel(self, count_id: str, data: Cancellation, hq: HqCommands, db: Database,
                     principal: Principal) -> CycleCountView:
        await self._count(count_id, db, principal)
        await hq.run("inventory.cancel_cycle_count", CancelCycleCount(count_id, data.reason))
        return await self._count(count_id, db, principal)

    @get("/cycle-counts/{count_id:str}/variances", opt={"permission": "inventory.view"})
    async def variances(self, count_id: str, db: Database, principal: Principal,
                        tolerance: Decimal = Decimal(0),
                        tolerance_percent: Decimal | None = None) -> list[VarianceView]:
        """Counted lines whose difference is beyond ``tolerance`` (units) and ``tolerance_percent``
        (of the system quantity), largest first."""
        if any(v is not None and (not v.is_finite() or v < 0) for v in (tolerance, tolerance_percent)):
            raise InvalidArguments("tolerances are numbers ≥ 0", tolerance=str(tolerance),
                                   tolerance_percent=str(tolerance_percent))
        await self._count(count_id, db, principal)
        return await db.read(count_queries.variances, count_id=count_id, absolute=tolerance, percent=tolerance_percent)

    @staticmethod
    async def _count(count_id: str, db: Database, principal: Principal) -> CycleCountView:
        document = await db.read(count_queries.get_cycle_count, count_id)
        if document is None:
            raise NotFound("no such cycle count", count_id=count_id)
        site_in_scope(principal, document.site_id)
        return document

    @staticmethod
    async def _due_lines(data: NewCycleCount, db: Database, principal: Principal) -> list[NewCountLine]:
        warehouse = next((w for w in await db.read(list_warehouses, site_id=None) if w.id == data.warehouse_id), None)
        if warehouse is None:
            raise NotFound("no such warehouse", warehouse_id=data.warehouse_id)
        site_in_scope(principal, warehouse.site_id)
        history, stocked = await db.read(count_queries.count_history, warehouse_id=warehouse.id,
                                         site_id=warehouse.site_id, classes=dict(data.abc_classes))
        due = due_for_count(history, datetime.now(timezone.utc).date(), limit=data.due_limit)
        if not due:
            raise InvalidArguments("no item stocked in this warehouse is due for a count",
                                   warehouse_id=data.warehouse_id)
        return [NewCountLine(new_id(), item_id, location_id) for item_id in due for location_id in stocked[item_id]]


CONTROLLERS = [CycleCountController]
