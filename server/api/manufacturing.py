"""HQ API for manufacturing: calendars, standard costs, BOMs, work centres, routings, work
orders with their material, reports and cost, work-order exceptions, and piece-rate totals.

Writes run the module's own mutations (``HqCommands``), the same a shop-floor tablet runs;
reads call ``erp.manufacturing.queries``. A user bound to a site sees and changes that site's
work centres, routings and orders only (BOMs, calendars and standard costs are shared).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.di import Provide
from litestar.params import Parameter

from erp.manufacturing import queries
from erp.manufacturing.bom import AddBomLine, BomDecision, CreateBom, NewBomVersion, RemoveBomLine, UpdateBomLine
from erp.manufacturing.calendars import CreateWorkingCalendar, UpdateWorkingCalendar
from erp.manufacturing.completion import ReportCompletion
from erp.manufacturing.costing import WorkOrderCost
from erp.manufacturing.material_issue import MaterialMove
from erp.manufacturing.operation_report import ReportOperation, ReverseReport
from erp.manufacturing.queries import (
    BomView, CalendarView, PieceRateLine, RoutingView, StandardCostView, WorkCentreView, WorkOrderDetail,
    WorkOrderExceptionView, WorkOrderPage, WorkOrderView,
)
from erp.manufacturing.routing import AddRoutingOperation, CreateRouting, UpdateRouting
from erp.manufacturing.standard_cost import SetStandardCost
from erp.manufacturing.work_centre import CreateWorkCentre, UpdateWorkCentre
from erp.manufacturing.work_order import CreateWorkOrder, WorkOrderDecision
from erp.manufacturing.work_order_exception import ReviewWorkOrderException
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands, provide_db, provide_hq
from sync.context import Edit, FieldConflict
from sync.errors import NotFound
from sync.ids import new_id

Limit = Annotated[int, Parameter(ge=1, le=1000)]


class NewCalendar(msgspec.Struct):
    code: str
    name: str
    working_weekdays: list[int] = msgspec.field(default_factory=lambda: [0, 1, 2, 3, 4])
    holidays: list[date] = msgspec.field(default_factory=list)
    extra_working_days: list[date] = msgspec.field(default_factory=list)
    id: str | None = None


class CalendarEdit(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields to change, each with the field version it was based on (from GET)."""

    name: Edit[str] | None = None
    working_weekdays: Edit[list[int]] | None = None
    holidays: Edit[list[date]] | None = None
    extra_working_days: Edit[list[date]] | None = None


class StandardCost(msgspec.Struct):
    standard_cost: Decimal
    base_version: int | None = None  # from GET; None: replace whatever is there


class NewBom(msgspec.Struct):
    item_id: str
    note: str | None = None
    id: str | None = None


class NewVersion(msgspec.Struct):
    note: str | None = None
    id: str | None = None


class NewBomLine(msgspec.Struct):
    component_item_id: str
    quantity_per: Decimal
    scrap_factor: Decimal = Decimal(0)
    phantom: bool = False
    backflush: bool = False
    id: str | None = None


class BomLineEdit(msgspec.Struct, forbid_unknown_fields=True):
    quantity_per: Edit[Decimal] | None = None
    scrap_factor: Edit[Decimal] | None = None
    phantom: Edit[bool] | None = None
    backflush: Edit[bool] | None = None


class NewWorkCentre(msgspec.Struct):
    site_id: str
    code: str
    name: str
    calendar_id: str
    capacity_hours_per_day: Decimal
    labour_rate: Decimal = Decimal(0)
    overhead_rate: Decimal = Decimal(0)
    id: str | None = None


class WorkCentreEdit(msgspec.Struct, forbid_unknown_fields=True):
    name: Edit[str] | None = None
    calendar_id: Edit[str] | None = None
    capacity_hours_per_day: Edit[Decimal] | None = None
    labour_rate: Edit[Decimal] | None = None
    overhead_rate: Edit[Decimal] | None = None
    active: Edit[bool] | None = None


class NewRouting(msgspec.Struct):
    site_id: str
    item_id: str
    code: str
    name: str
    id: str | None = None


class RoutingEdit(msgspec.Struct, forbid_unknown_fields=True):
    name: Edit[str] | None = None
    active: Edit[bool] | None = None


class NewOperation(msgspec.Struct):
    sequence: int
    name: str
    work_centre_id: str
    setup_hours: Decimal = Decimal(0)
    run_hours_per_unit: Decimal = Decimal(0)
    id: str | None = None


class NewWorkOrder(msgspec.Struct):
    site_id: str
    number: str
    item_id: str
    quantity: Decimal
    due_date: date
    issue_location_id: str
    receipt_location_id: str
    bom_id: str | None = None  # None: the item's latest released BOM
    routing_id: str | None = None
    note: str | None = None
    id: str | None = None


class Decision(msgspec.Struct):
    note: str | None = None


class Material(msgspec.Struct):
    item_id: str
    quantity: Decimal
    location_id: str | None = None  # None: the order's line-side location
    reference: str | None = None
    occurred_at: datetime | None = None  # None: now
    id: str | None = None


class Completion(msgspec.Struct):
    quantity: Decimal
    receipt_location_id: str | None = None  # None: the order's finished-goods location
    note: str | None = None
    occurred_at: datetime | None = None
    id: str | None = None


class Report(msgspec.Struct):
    operation_seq: int
    event: Literal["start", "pause", "finish"]
    operator: str
    good_quantity: Decimal = Decimal(0)
    scrap_quantity: Decimal = Decimal(0)
    note: str | None = None
    occurred_at: datetime | None = None
    id: str | None = None


class Reversal(msgspec.Struct):
    reason: str
    id: str | None = None


class Review(msgspec.Struct):
    note: str = ""


class EditResult(msgspec.Struct):
    """What an edit did: fields changed meanwhile by someone else are listed, not overwritten."""

    id: str
    conflicts: list[dict]


class Recorded(msgspec.Struct):
    """A fact recorded against a work order: its id (move, report or completion) and the order after."""

    id: str
    work_order: WorkOrderView


def _conflicts(id_: str, found: list[FieldConflict]) -> EditResult:
    return EditResult(id_, [{"field": c.field, "yours": c.device_value, "current": c.server_value, "kept": c.kept}
                            for c in found])


def _now(moment: datetime | None) -> datetime:
    return moment or datetime.now(timezone.utc)


def _found(value, what: str, **ids: str):
    if value is None:
        raise NotFound(f"no such {what}", **ids)
    return value


class ManufacturingController(Controller):
    path = "/api/v1/manufacturing"
    tags = ["manufacturing"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    # -- calendars and standard costs ----------------------------------------------------------

    @get("/calendars", opt={"permission": "manufacturing.view"})
    async def list_calendars(self, db: Database) -> list[CalendarView]:
        return await db.read(queries.list_calendars)

    @post("/calendars", opt={"permission": "manufacturing.create_working_calendar"})
    async def create_calendar(self, data: NewCalendar, hq: HqCommands, db: Database) -> CalendarView:
        calendar_id = data.id or new_id()
        await hq.run("manufacturing.create_working_calendar", CreateWorkingCalendar(
            calendar_id, data.code, data.name, data.working_weekdays, data.holidays, data.extra_working_days))
        return await db.read(queries.get_calendar, calendar_id)

    @patch("/calendars/{calendar_id:str}", opt={"permission": "manufacturing.update_working_calendar"})
    async def edit_calendar(self, calendar_id: str, data: CalendarEdit, hq: HqCommands) -> EditResult:
        found = await hq.run("manufacturing.update_working_calendar", UpdateWorkingCalendar(
            calendar_id, data.name, data.working_weekdays, data.holidays, data.extra_working_days))
        return _conflicts(calendar_id, found)

    @get("/standard-costs", opt={"permission": "manufacturing.view"})
    async def list_standard_costs(self, db: Database, item_id: str | None = None) -> list[StandardCostView]:
        return await db.read(queries.list_standard_costs, item_id=item_id)

    @put("/standard-costs/{item_id:str}", opt={"permission": "manufacturing.set_standard_cost"})
    async def set_standard_cost(self, item_id: str, data: StandardCost, hq: HqCommands) -> EditResult:
        found = await hq.run("manufacturing.set_standard_cost",
                             SetStandardCost(item_id, data.standard_cost, data.base_version))
        return _conflicts(item_id, found)

    # -- BOMs ----------------------------------------------------------------------------------

    @get("/boms", opt={"permission": "manufacturing.view"})
    async def list_boms(self, db: Database, item_id: str | None = None,
                        status: Literal["draft", "released", "obsolete"] | None = None) -> list[BomView]:
        return await db.read(queries.list_boms, item_id=item_id, status=status)

    @get("/boms/{bom_id:str}", opt={"permission": "manufacturing.view"})
    async def get_bom(self, db: Database, bom_id: str) -> BomView:
        return _found(await db.read(queries.get_bom, bom_id), "BOM", bom_id=bom_id)

    @post("/boms", opt={"permission": "manufacturing.create_bom"})
    async def create_bom(self, data: NewBom, hq: HqCommands, db: Database) -> BomView:
        """Start the item's next BOM version as an empty draft."""
        bom_id = data.id or new_id()
        await hq.run("manufacturing.create_bom", CreateBom(bom_id, data.item_id, data.note))
        return await db.read(queries.get_bom, bom_id)

    @post("/boms/{bom_id:str}/new-version", opt={"permission": "manufacturing.new_bom_version"})
    async def new_bom_version(self, bom_id: str, data: NewVersion, hq: HqCommands, db: Database) -> BomView:
        """A new draft version holding a copy of this version's lines: how a released BOM changes."""
        new_bom_id = data.id or new_id()
        await hq.run("manufacturing.new_bom_version", NewBomVersion(new_bom_id, bom_id, data.note))
        return await db.read(queries.get_bom, new_bom_id)

    @post("/boms/{bom_id:str}/lines", opt={"permission": "manufacturing.add_bom_line"})
    async def add_bom_line(self, bom_id: str, data: NewBomLine, hq: HqCommands, db: Database) -> BomView:
        await hq.run("manufacturing.add_bom_line", AddBomLine(
            data.id or new_id(), bom_id, data.component_item_id, data.quantity_per, data.scrap_factor,
            data.phantom, data.backflush))
        return await db.read(queries.get_bom, bom_id)

    @patch("/bom-lines/{line_id:str}", opt={"permission": "manufacturing.update_bom_line"})
    async def edit_bom_line(self, line_id: str, data: BomLineEdit, hq: HqCommands) -> EditResult:
        found = await hq.run("manufacturing.update_bom_line", UpdateBomLine(
            line_id, data.quantity_per, data.scrap_factor, data.phantom, data.backflush))
        return _conflicts(line_id, found)

    @delete("/bom-lines/{line_id:str}", opt={"permission": "manufacturing.remove_bom_line"})
    async def remove_bom_line(self, line_id: str, hq: HqCommands) -> None:
        await hq.run("manufacturing.remove_bom_line", RemoveBomLine(line_id))

    @post("/boms/{bom_id:str}/release", status_code=200, opt={"permission": "manufacturing.release_bom"})
    async def release_bom(self, bom_id: str, hq: HqCommands, db: Database) -> BomView:
        await hq.run("manufacturing.release_bom", BomDecision(bom_id))
        return await db.read(queries.get_bom, bom_id)

    @post("/boms/{bom_id:str}/obsolete", status_code=200, opt={"permission": "manufacturing.obsolete_bom"})
    async def obsolete_bom(self, bom_id: str, hq: HqCommands, db: Database) -> BomView:
        await hq.run("manufacturing.obsolete_bom", BomDecision(bom_id))
        return await db.read(queries.get_bom, bom_id)

    # -- work centres and routings -------------------------------------------------------------

    @get("/work-centres", opt={"permission": "manufacturing.view"})
    async def list_work_centres(self, db: Database, principal: Principal,
                                site_id: str | None = None) -> list[WorkCentreView]:
        return await db.read(queries.list_work_centres, site_id=site_in_scope(principal, site_id))

    @post("/work-centres", opt={"permission": "manufacturing.create_work_centre"})
    async def create_work_centre(self, data: NewWorkCentre, hq: HqCommands, db: Database) -> WorkCentreView:
        work_centre_id = data.id or new_id()
        await hq.run("manufacturing.create_work_centre", CreateWorkCentre(
            work_centre_id, data.site_id, data.code, data.name, data.calendar_id, data.capacity_hours_per_day,
            data.labour_rate, data.overhead_rate))
        return await db.read(queries.get_work_centre, work_centre_id)

    @patch("/work-centres/{work_centre_id:str}", opt={"permission": "manufacturing.update_work_centre"})
    async def edit_work_centre(self, work_centre_id: str, data: WorkCentreEdit, hq: HqCommands) -> EditResult:
        found = await hq.run("manufacturing.update_work_centre", UpdateWorkCentre(
            work_centre_id, data.name, data.calendar_id, data.capacity_hours_per_day, data.labour_rate,
            data.overhead_rate, data.active))
        return _conflicts(work_centre_id, found)

    @get("/routings", opt={"permission": "manufacturing.view"})
    async def list_routings(self, db: Database, principal: Principal, site_id: str | None = None,
                            item_id: str | None = None) -> list[RoutingView]:
        return await db.read(queries.list_routings, site_id=site_in_scope(principal, site_id), item_id=item_id)

    @get("/routings/{routing_id:str}", opt={"permission": "manufacturing.view"})
    async def get_routing(self, db: Database, principal: Principal, routing_id: str) -> RoutingView:
        routing = _found(await db.read(queries.get_routing, routing_id), "routing", routing_id=routing_id)
        site_in_scope(principal, routing.site_id)
        return routing

    @post("/routings", opt={"permission": "manufacturing.create_routing"})
    async def create_routing(self, data: NewRouting, hq: HqCommands, db: Database) -> RoutingView:
        routing_id = data.id or new_id()
        await hq.run("manufacturing.create_routing", CreateRouting(routing_id, data.site_id, data.item_id, data.code,
                                                                   data.name))
        return await db.read(queries.get_routing, routing_id)

    @patch("/routings/{routing_id:str}", opt={"permission": "manufacturing.update_routing"})
    async def edit_routing(self, routing_id: str, data: RoutingEdit, hq: HqCommands) -> EditResult:
        found = await hq.run("manufacturing.update_routing", UpdateRouting(routing_id, data.name, data.active))
        return _conflicts(routing_id, found)

    @post("/routings/{routing_id:str}/operations", opt={"permission": "manufacturing.add_routing_operation"})
    async def add_operation(self, routing_id: str, data: NewOperation, hq: HqCommands, db: Database) -> RoutingView:
        await hq.run("manufacturing.add_routing_operation", AddRoutingOperation(
            data.id or new_id(), routing_id, data.sequence, data.name, data.work_centre_id, data.setup_hours,
            data.run_hours_per_unit))
        return await db.read(queries.get_routing, routing_id)

    # -- work orders ---------------------------------------------------------------------------

    @get("/work-orders", opt={"permission": "manufacturing.view"})
    async def list_work_orders(
        self, db: Database, principal: Principal, site_id: str | None = None, status: str | None = None,
        item_id: str | None = None, due_before: date | None = None, limit: Limit = 100, after: str | None = None,
    ) -> WorkOrderPage:
        """Work orders by id, filtered; page on with ``after=next_after``."""
        return await db.read(queries.list_work_orders, site_id=site_in_scope(principal, site_id), status=status,
                             item_id=item_id, due_before=due_before.isoformat() if due_before else None,
                             limit=limit, after=after)

    @get("/work-orders/{work_order_id:str}", opt={"permission": "manufacturing.view"})
    async def get_work_order(self, db: Database, principal: Principal, work_order_id: str) -> WorkOrderDetail:
        """The order with its requirements, operations, reports, stock moves, cost and exceptions."""
        detail = _found(await db.read(queries.work_order_detail, work_order_id), "work order",
                        work_order_id=work_order_id)
        site_in_scope(principal, detail.work_order.site_id)
        return detail

    @get("/work-orders/{work_order_id:str}/cost", opt={"permission": "manufacturing.view"})
    async def work_order_cost(self, db: Database, principal: Principal, work_order_id: str) -> WorkOrderCost:
        order = _found(await db.read(queries.get_work_order, work_order_id), "work order",
                       work_order_id=work_order_id)
        site_in_scope(principal, order.site_id)
        return await db.read(queries.work_order_costs, work_order_id)

    @post("/work-orders", opt={"permission": "manufacturing.create_work_order"})
    async def create_work_order(self, data: NewWorkOrder, hq: HqCommands, db: Database) -> WorkOrderView:
        """Plan an order: its BOM is exploded into requirements and its routing copied."""
        work_order_id = data.id or new_id()
        await hq.run("manufacturing.create_work_order", CreateWorkOrder(
            work_order_id, data.site_id, data.number, data.item_id, data.quantity, data.due_date,
            data.issue_location_id, data.receipt_location_id, data.bom_id, data.routing_id, data.note))
        return await db.read(queries.get_work_order, work_order_id)

    async def _decide(self, name: str, work_order_id: str, data: Decision, hq: HqCommands,
                      db: Database) -> WorkOrderView:
        await hq.run(name, WorkOrderDecision(work_order_id, data.note))
        return await db.read(queries.get_work_order, work_order_id)

    @post("/work-orders/{work_order_id:str}/release", status_code=200,
          opt={"permission": "manufacturing.release_work_order"})
    async def release(self, work_order_id: str, data: Decision, hq: HqCommands, db: Database) -> WorkOrderView:
        return await self._decide("manufacturing.release_work_order", work_order_id, data, hq, db)

    @post("/work-orders/{work_order_id:str}/cancel", status_code=200,
          opt={"permission": "manufacturing.cancel_work_order"})
    async def cancel(self, work_order_id: str, data: Decision, hq: HqCommands, db: Database) -> WorkOrderView:
        return await self._decide("manufacturing.cancel_work_order", work_order_id, data, hq, db)

    @post("/work-orders/{work_order_id:str}/finish", status_code=200,
          opt={"permission": "manufacturing.finish_work_order"})
    async def finish(self, work_order_id: str, data: Decision, hq: HqCommands, db: Database) -> WorkOrderView:
        """Declare an order in progress completed although short of its quantity."""
        return await self._decide("manufacturing.finish_work_order", work_order_id, data, hq, db)

    @post("/work-orders/{work_order_id:str}/close", status_code=200,
          opt={"permission": "manufacturing.close_work_order"})
    async def close(self, work_order_id: str, data: Decision, hq: HqCommands, db: Database) -> WorkOrderView:
        return await self._decide("manufacturing.close_work_order", work_order_id, data, hq, db)

    async def _material(self, name: str, work_order_id: str, data: Material, hq: HqCommands,
                        db: Database) -> Recorded:
        move_id = data.id or new_id()
        await hq.run(name, MaterialMove(move_id, work_order_id, data.item_id, data.quantity, _now(data.occurred_at),
                                        data.location_id, data.reference))
        return Recorded(move_id, await db.read(queries.get_work_order, work_order_id))

    @post("/work-orders/{work_order_id:str}/issue", opt={"permission": "manufacturing.issue_material"})
    async def issue(self, work_order_id: str, data: Material, hq: HqCommands, db: Database) -> Recorded:
        """Issue components to the order (领料): a stock move from its line-side location."""
        return await self._material("manufacturing.issue_material", work_order_id, data, hq, db)

    @post("/work-orders/{work_order_id:str}/top-up", opt={"permission": "manufacturing.top_up_material"})
    async def top_up(self, work_order_id: str, data: Material, hq: HqCommands, db: Database) -> Recorded:
        """Issue more than planned (补料)."""
        return await self._material("manufacturing.top_up_material", work_order_id, data, hq, db)

    @post("/work-orders/{work_order_id:str}/return", opt={"permission": "manufacturing.return_material"})
    async def return_material(self, work_order_id: str, data: Material, hq: HqCommands, db: Database) -> Recorded:
        """Return unused components to stock (退料)."""
        return await self._material("manufacturing.return_material", work_order_id, data, hq, db)

    @post("/work-orders/{work_order_id:str}/complete", opt={"permission": "manufacturing.report_completion"})
    async def complete(self, work_order_id: str, data: Completion, hq: HqCommands, db: Database) -> Recorded:
        """Report good units finished: backflush their components and receive them (完工入库)."""
        completion_id = data.id or new_id()
        await hq.run("manufacturing.report_completion", ReportCompletion(
            completion_id, work_order_id, data.quantity, _now(data.occurred_at), data.receipt_location_id, data.note))
        return Recorded(completion_id, await db.read(queries.get_work_order, work_order_id))

    @post("/work-orders/{work_order_id:str}/reports", opt={"permission": "manufacturing.report_operation"})
    async def report(self, work_order_id: str, data: Report, hq: HqCommands, db: Database) -> Recorded:
        """Record an operation report on an operator's behalf (a tablet normally does)."""
        report_id = data.id or new_id()
        await hq.run("manufacturing.report_operation", ReportOperation(
            report_id, work_order_id, data.operation_seq, data.event, data.operator, _now(data.occurred_at),
            data.good_quantity, data.scrap_quantity, data.note))
        return Recorded(report_id, await db.read(queries.get_work_order, work_order_id))

    @post("/reports/{report_id:str}/reverse", opt={"permission": "manufacturing.reverse_report"})
    async def reverse_report(self, report_id: str, data: Reversal, hq: HqCommands) -> dict:
        """Cancel a wrong report by appending its reversal (the original stays in the ledger)."""
        reversal_id = data.id or new_id()
        await hq.run("manufacturing.reverse_report", ReverseReport(reversal_id, report_id,
                                                                   datetime.now(timezone.utc), data.reason))
        return {"id": reversal_id, "reverses_id": report_id}

    # -- exceptions and piece rates ------------------------------------------------------------

    @get("/exceptions", opt={"permission": "manufacturing.view"})
    async def exceptions(self, db: Database, principal: Principal, site_id: str | None = None,
                         status: str | None = None) -> list[WorkOrderExceptionView]:
        """Facts recorded against orders that were not open for them (cancelled, closed...)."""
        return await db.read(queries.list_exceptions, site_id=site_in_scope(principal, site_id), status=status)

    @post("/exceptions/{exception_id:str}/review", status_code=200,
          opt={"permission": "manufacturing.review_exception"})
    async def review(self, exception_id: str, data: Review, hq: HqCommands) -> dict:
        await hq.run("manufacturing.review_exception", ReviewWorkOrderException(exception_id, data.note))
        return {"id": exception_id, "status": "reviewed"}

    @get("/piece-rate", opt={"permission": "manufacturing.view"})
    async def piece_rate(self, db: Database, principal: Principal, site_id: str | None = None,
                         since: datetime | None = None, until: datetime | None = None) -> list[PieceRateLine]:
        """Good and scrap quantities per operator and operation reported in [since, until) (计件工资)."""
        return await db.read(queries.piece_rate, site_id=site_in_scope(principal, site_id), since=since,
                             until=until)


CONTROLLERS = [ManufacturingController]
