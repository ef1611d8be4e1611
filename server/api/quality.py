"""HQ API for quality: inspection plans, inspection results, pending inspections,
nonconformances and their decisions, quality holds on lots.

Writes run the module's own mutations (``HqCommands``), the same a QC tablet runs; reads call
``erp.quality.queries``. A user bound to a site sees and decides that site's results and
nonconformances only (plans are shared). Buyers see the nonconformances of purchased goods
under ``purchasing.view`` (``/quality/supplier-nonconformances``): they take them up with the
supplier without holding any quality permission.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter

from erp.quality import queries
from erp.quality.lot_hold import HoldLot, ReleaseLot
from erp.quality.nonconformance import CloseNcr, DispositionNcr, RaiseNcr
from erp.quality.plan import CreatePlan, NewCharacteristic, RevisePlan, UpdatePlan
from erp.quality.queries import NcrView, PendingInspection, PlanView, ResultView
from erp.quality.result import Measurement, RecordResult
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands, provide_db, provide_hq
from sync.context import Edit
from sync.errors import NotFound
from sync.ids import new_id

Limit = Annotated[int, Parameter(ge=1, le=1000)]
Stage = Literal["incoming", "in_process", "final"]


class NewPlan(msgspec.Struct):
    code: str
    name: str
    item_id: str
    stage: Stage
    sample_kind: Literal["fixed", "percent"]
    sample_value: Decimal
    characteristics: list[NewCharacteristic]
    supplier_id: str | None = None
    operation_seq: int | None = None
    id: str | None = None


class PlanRevision(msgspec.Struct):
    """The next version's sampling and characteristics; code, item and stage stay."""

    name: str
    sample_kind: Literal["fixed", "percent"]
    sample_value: Decimal
    characteristics: list[NewCharacteristic]
    supplier_id: str | None = None
    operation_seq: int | None = None
    id: str | None = None


class PlanEdit(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields to change, each with the field version it was based on."""

    name: Edit[str] | None = None
    active: Edit[bool] | None = None


class NewResult(msgspec.Struct):
    """An inspection recorded at HQ (a lab's report typed in): the same fields a tablet sends."""

    plan_id: str
    site_id: str
    sample_size: int
    measurements: list[Measurement]
    lot_no: str | None = None
    source_id: str | None = None
    operation_seq: int | None = None
    lot_quantity: Decimal | None = None
    note: str | None = None
    supersedes_id: str | None = None
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    id: str | None = None


class NewNcr(msgspec.Struct):
    site_id: str
    stage: Stage
    item_id: str
    description: str
    lot_no: str | None = None
    source_id: str | None = None
    quantity: Decimal | None = None
    hold: bool = True
    id: str | None = None


class Decision(msgspec.Struct):
    disposition: Literal["rework", "scrap", "use_as_is", "return_to_supplier"]
    note: str = ""
    quantity: Decimal | None = None  # scrap
    location_id: str | None = None  # scrap


class Closing(msgspec.Struct):
    note: str = ""


class LotHold(msgspec.Struct):
    site_id: str
    item_id: str
    lot_no: str
    reason: str


class QualityController(Controller):
    path = "/api/v1/quality"
    tags = ["quality"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/plans", opt={"permission": "quality.view"})
    async def list_plans(self, db: Database, item_id: str | None = None, stage: str | None = None,
                         active: bool = False) -> list[PlanView]:
        """Plans with their characteristics, every version; ``active=true``: the versions in use."""
        return await db.read(queries.list_plans, item_id=item_id, stage=stage, active_only=active)

    @get("/plans/{plan_id:str}", opt={"permission": "quality.view"})
    async def get_plan(self, plan_id: str, db: Database) -> PlanView:
        return await self._plan(plan_id, db)

    @post("/plans", opt={"permission": "quality.create_plan"})
    async def create_plan(self, data: NewPlan, hq: HqCommands, db: Database) -> PlanView:
        plan_id = data.id or new_id()
        await hq.run("quality.create_plan", CreatePlan(
            plan_id=plan_id, code=data.code, name=data.name, item_id=data.item_id, stage=data.stage,
            sample_kind=data.sample_kind, sample_value=data.sample_value, characteristics=data.characteristics,
            supplier_id=data.supplier_id, operation_seq=data.operation_seq))
        return await self._plan(plan_id, db)

    @post("/plans/{plan_id:str}/revisions", opt={"permission": "quality.revise_plan"})
    async def revise_plan(self, plan_id: str, data: PlanRevision, hq: HqCommands, db: Database) -> PlanView:
        """Create the next version of a plan; the one revised is deactivated, its results keep it."""
        new_plan_id = data.id or new_id()
        await hq.run("quality.revise_plan", RevisePlan(
            plan_id=new_plan_id, supersedes_id=plan_id, name=data.name, sample_kind=data.sample_kind,
            sample_value=data.sample_value, characteristics=data.characteristics, supplier_id=data.supplier_id,
            operation_seq=data.operation_seq))
        return await self._plan(new_plan_id, db)

    @patch("/plans/{plan_id:str}", opt={"permission": "quality.update_plan"})
    async def edit_plan(self, plan_id: str, data: PlanEdit, hq: HqCommands) -> dict:
        found = await hq.run("quality.update_plan", UpdatePlan(plan_id, data.name, data.active))
        return {"id": plan_id, "conflicts": [{"field": c.field, "yours": c.device_value,
                                              "current": c.server_value, "kept": c.kept} for c in found]}

    @get("/results", opt={"permission": "quality.view"})
    async def list_results(self, db: Database, principal: Principal, site_id: str | None = None,
                           verdict: str | None = None, flagged: bool = False, item_id: str | None = None,
                           lot_no: str | None = None, source_id: str | None = None, limit: Limit = 100,
                           after: str | None = None) -> list[ResultView]:
        """Results by id; ``flagged=true``: those recorded against something HQ changed meanwhile."""
        return await db.read(queries.list_results, site_id=site_in_scope(principal, site_id), verdict=verdict,
                             flagged=flagged, item_id=item_id, lot_no=lot_no, source_id=source_id, limit=limit,
                             after=after)

    @post("/results", opt={"permission": "quality.record_result"})
    async def record_result(self, data: NewResult, hq: HqCommands, db: Database) -> ResultView:
        plan = await self._plan(data.plan_id, db)
        result_id = data.id or new_id()
        await hq.run("quality.record_result", RecordResult(
            result_id=result_id, plan_id=plan.id, stage=plan.stage, item_id=plan.item_id,  # type: ignore[arg-type]
            site_id=data.site_id, sample_size=data.sample_size, measurements=data.measurements,
            occurred_at=data.occurred_at or datetime.now(timezone.utc), lot_no=data.lot_no,
            source_id=data.source_id, operation_seq=data.operation_seq, lot_quantity=data.lot_quantity,
            note=data.note, supersedes_id=data.supersedes_id))
        result = await db.read(queries.get_result, result_id)
        assert result is not None  # just recorded, or recorded before under this id
        return result

    @get("/pending", opt={"permission": "quality.view"})
    async def pending(self, db: Database, principal: Principal, site_id: str | None = None,
                      stage: Stage | None = None) -> list[PendingInspection]:
        """Receipts, work-order operations and completions an active plan covers, not yet inspected."""
        return await db.read(queries.pending, site_id=site_in_scope(principal, site_id), stage=stage)

    @get("/nonconformances", opt={"permission": "quality.view"})
    async def list_ncrs(self, db: Database, principal: Principal, site_id: str | None = None,
                        status: str | None = None, stage: str | None = None,
                        item_id: str | None = None) -> list[NcrView]:
        return await db.read(queries.list_ncrs, site_id=site_in_scope(principal, site_id), status=status,
                             stage=stage, item_id=item_id)

    @get("/supplier-nonconformances", opt={"permission": "purchasing.view"})
    async def supplier_ncrs(self, db: Database, principal: Principal, site_id: str | None = None,
                            supplier_id: str | None = None, open: bool = False) -> list[NcrView]:
        """Nonconformances of goods received against purchase orders, with the order and supplier."""
        return await db.read(queries.supplier_ncrs, site_id=site_in_scope(principal, site_id),
                             supplier_id=supplier_id, open_only=open)

    @post("/nonconformances", opt={"permission": "quality.raise_ncr"})
    async def raise_ncr(self, data: NewNcr, hq: HqCommands, db: Database, principal: Principal) -> NcrView:
        ncr_id = data.id or new_id()
        await hq.run("quality.raise_ncr", RaiseNcr(
            ncr_id=ncr_id, site_id=data.site_id, stage=data.stage, item_id=data.item_id, description=data.description,
            lot_no=data.lot_no, source_id=data.source_id, quantity=data.quantity, hold=data.hold))
        return await self._ncr(ncr_id, db, principal)

    @post("/nonconformances/{ncr_id:str}/disposition", status_code=200,
          opt={"permission": "quality.disposition_ncr"})
    async def disposition(self, ncr_id: str, data: Decision, hq: HqCommands, db: Database,
                          principal: Principal) -> NcrView:
        """Decide: rework, scrap (a stock issue at ``location_id``), use as is, or return to supplier."""
        await self._ncr(ncr_id, db, principal)
        scrap = data.disposition == "scrap"
        await hq.run("quality.disposition_ncr", DispositionNcr(
            ncr_id=ncr_id, disposition=data.disposition, note=data.note, quantity=data.quantity,
            location_id=data.location_id, move_id=new_id() if scrap else None,
            occurred_at=datetime.now(timezone.utc) if scrap else None))
        return await self._ncr(ncr_id, db, principal)

    @post("/nonconformances/{ncr_id:str}/close", status_code=200, opt={"permission": "quality.close_ncr"})
    async def close(self, ncr_id: str, data: Closing, hq: HqCommands, db: Database, principal: Principal) -> NcrView:
        await self._ncr(ncr_id, db, principal)
        await hq.run("quality.close_ncr", CloseNcr(ncr_id, data.note))
        return await self._ncr(ncr_id, db, principal)

    @post("/lot-holds", status_code=200, opt={"permission": "quality.hold_lot"})
    async def hold(self, data: LotHold, hq: HqCommands, principal: Principal) -> dict:
        site_in_scope(principal, data.site_id)
        await hq.run("quality.hold_lot", HoldLot(data.site_id, data.item_id, data.lot_no, data.reason))
        return {"site_id": data.site_id, "item_id": data.item_id, "lot_no": data.lot_no, "status": "held"}

    @post("/lot-releases", status_code=200, opt={"permission": "quality.release_lot"})
    async def release(self, data: LotHold, hq: HqCommands, principal: Principal) -> dict:
        site_in_scope(principal, data.site_id)
        await hq.run("quality.release_lot", ReleaseLot(data.site_id, data.item_id, data.lot_no, data.reason))
        return {"site_id": data.site_id, "item_id": data.item_id, "lot_no": data.lot_no, "status": "released"}

    @staticmethod
    async def _plan(plan_id: str, db: Database) -> PlanView:
        plan = await db.read(queries.get_plan, plan_id)
        if plan is None:
            raise NotFound("no such inspection plan", plan_id=plan_id)
        return plan

    @staticmethod
    async def _ncr(ncr_id: str, db: Database, principal: Principal) -> NcrView:
        ncr = await db.read(queries.get_ncr, ncr_id)
        if ncr is None:
            raise NotFound("no such nonconformance", ncr_id=ncr_id)
        site_in_scope(principal, ncr.site_id)
        return ncr


CONTROLLERS = [QualityController]
