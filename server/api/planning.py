"""HQ API for manufacturing planning: MRP runs and their planned orders with pegging, one-call
conversion of proposals into purchase and work orders, forecasts, items' planning parameters,
and the capacity load of a site's work centres.

The planning tables are server-only and written with plain SQL by the services in
``erp/manufacturing/`` (``mrp_run``, ``item_planning``, ``demand_forecast``,
``planned_order``): each write here runs in one transaction with its audit-log entry. The
documents a conversion creates are made by the same mutations a buyer or planner runs
(``HqCommands``): the user needs ``purchasing.create_po`` and
``manufacturing.create_work_order`` for them as well as ``manufacturing.plan``.

Reads need ``manufacturing.view``; a user bound to a site plans and sees that site only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, Callable, Literal, TypeVar

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy import Connection

from erp.manufacturing import PLAN, planning_queries
from erp.manufacturing.demand_forecast import Forecast, forecasts, record_forecast
from erp.manufacturing.item_planning import ItemPlanning, check_planning_date, set_item_planning
from erp.manufacturing.mrp_run import MrpRunSummary, run_site
from erp.manufacturing.planned_order_conversion import ConversionReport, convert
from erp.manufacturing.planning_queries import PlannedOrderView
from server.audit import Event, record_many, source_of
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands, provide_db, provide_hq
from sync.errors import JcerpError
from sync.ids import new_id

T = TypeVar("T")
Limit = Annotated[int, Parameter(ge=1, le=1000)]
CAPACITY_DAYS = 28  # the period shown when none is asked for: four weeks from today


class NewRun(msgspec.Struct):
    site_id: str
    run_date: date | None = None  # None: today (UTC)
    calendar_id: str | None = None  # the plant calendar; None: Monday to Friday


class Conversion(msgspec.Struct):
    site_id: str
    planned_order_ids: list[str] | Literal["all"]  # "all": every open proposal of the site


class NewForecast(msgspec.Struct):
    site_id: str
    item_id: str
    due_date: date
    quantity: Decimal
    note: str | None = None
    id: str | None = None  # an existing forecast's id replaces it


class PlanningParameters(msgspec.Struct):
    site_id: str
    procurement: Literal["buy", "make"]
    lead_time_days: int = 0
    safety_stock: Decimal = Decimal(0)
    lot_rule: Literal["lot_for_lot", "fixed_quantity"] = "lot_for_lot"
    lot_quantity: Decimal | None = None
    lot_minimum: Decimal = Decimal(0)
    lot_multiple: Decimal = Decimal(0)
    supplier_id: str | None = None
    unit_price: Decimal | None = None
    work_centre_id: str | None = None
    routing_id: str | None = None
    issue_location_id: str | None = None
    receipt_location_id: str | None = None


class DayLoadView(msgspec.Struct):
    site_id: str
    work_centre_id: str
    day: date
    load_hours: Decimal
    capacity_hours: Decimal
    overloaded: bool
    orders: list[str]


class CapacityView(msgspec.Struct):
    site_id: str
    since: date
    until: date
    items: list[DayLoadView]  # every centre × every day, by centre then day
    overloads: list[DayLoadView]


class _Runner:
    """What conversion needs (``CommandRunner``): the request's database and HQ commands."""

    def __init__(self, db: Database, hq: HqCommands, principal: Principal) -> None:
        self.db, self.hq, self.user = db, hq, principal.username

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any):
        return self.db.read(fn, *args, **kwargs)

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any):
        return self.db.write(fn, *args, **kwargs)

    def run(self, name: str, args: Any):
        return self.hq.run(name, args)


async def _audited(db: Database, request: Request, principal: Principal, action: str, site_id: str,
                   subject: str | None, detail: dict[str, Any], fn: Callable[..., T], *args: Any,
                   **kwargs: Any) -> T:
    """Run a planning write and record it in the audit log, in one transaction."""
    def write(conn: Connection) -> T:
        result = fn(conn, *args, **kwargs)
        record_many(conn, [Event(action, principal.username, None, site_id, source_of(request), subject, detail)])
        return result

    return await db.write(write)


def _site(principal: Principal, site_id: str | None) -> str:
    site = site_in_scope(principal, site_id)
    if site is None:
        raise JcerpError("site_id is needed", code="manufacturing.site_required", field="site_id")
    return site


class PlanningController(Controller):
    path = "/api/v1/planning"
    tags = ["planning"]
    dependencies = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False),
                    "principal": Provide(provide_principal, sync_to_thread=False)}

    # -- MRP runs -------------------------------------------------------------------------------

    @post("/mrp-runs", opt={"permission": PLAN})
    async def run_mrp(self, data: NewRun, db: Database, principal: Principal, request: Request) -> MrpRunSummary:
        """Plan the site now and store the run, replacing its open proposals."""
        site_id = _site(principal, data.site_id)
        run_date = data.run_date or datetime.now(timezone.utc).date()
        summary: MrpRunSummary = await _audited(
            db, request, principal, "planning.mrp_run", site_id, None, {"run_date": run_date.isoformat()},
            run_site, site_id, run_date, user=principal.username, calendar_id=data.calendar_id)
        return summary

    @get("/mrp-runs", opt={"permission": "manufacturing.view"})
    async def list_runs(self, db: Database, principal: Principal, site_id: str | None = None,
                        limit: Limit = 50) -> list[MrpRunSummary]:
        return await db.read(planning_queries.runs, site_in_scope(principal, site_id), limit)

    @get("/mrp-runs/{run_id:str}", opt={"permission": "manufacturing.view"})
    async def get_run(self, db: Database, principal: Principal, run_id: str) -> MrpRunSummary:
        summary = await db.read(planning_queries.run, run_id)
        site_in_scope(principal, summary.site_id)
        return summary

    @get("/mrp-runs/{run_id:str}/planned-orders", opt={"permission": "manufacturing.view"})
    async def planned_orders(self, db: Database, principal: Principal, run_id: str,
                             status: str | None = None) -> list[PlannedOrderView]:
        """The run's planned orders, each with its pegging (what demand it is for)."""
        summary = await db.read(planning_queries.run, run_id)
        site_in_scope(principal, summary.site_id)
        return await db.read(planning_queries.run_orders, run_id, status)

    @post("/planned-orders/convert", status_code=200, opt={"permission": PLAN})
    async def convert(self, data: Conversion, db: Database, hq: HqCommands, principal: Principal,
                      request: Request) -> ConversionReport:
        """Turn proposals into draft purchase orders (one per supplier) and planned work orders."""
        site_id = _site(principal, data.site_id)
        ids = None if data.planned_order_ids == "all" else list(data.planned_order_ids)
        report = await convert(_Runner(db, hq, principal), site_id, ids)
        detail = {"purchase_orders": report.purchase_orders, "work_orders": report.work_orders,
                  "converted": sum(1 for o in report.outcomes if o.converted)}
        await db.write(lambda conn: record_many(conn, [Event("planning.planned_orders_converted", principal.username,
                                                             None, site_id, source_of(request), None, detail)]))
        return report

    # -- forecasts and planning parameters ------------------------------------------------------

    @get("/forecasts", opt={"permission": "manufacturing.view"})
    async def list_forecasts(self, db: Database, principal: Principal, site_id: str | None = None,
                             item_id: str | None = None, since: date | None = None,
                             until: date | None = None) -> list[Forecast]:
        site = site_in_scope(principal, site_id)
        if site is None:
            return []
        return await db.read(forecasts, site, item_id=item_id, since=since, until=until)

    @post("/forecasts", opt={"permission": PLAN})
    async def add_forecast(self, data: NewForecast, db: Database, principal: Principal,
                           request: Request) -> Forecast:
        forecast = Forecast(data.id or new_id(), _site(principal, data.site_id), data.item_id, data.due_date,
                            data.quantity, data.note)
        await _audited(db, request, principal, "planning.forecast_recorded", forecast.site_id, forecast.id,
                       {"item_id": forecast.item_id, "due_date": forecast.due_date.isoformat(),
                        "quantity": str(forecast.quantity)},
                       record_forecast, forecast, user=principal.username)
        return forecast

    @get("/item-planning", opt={"permission": "manufacturing.view"})
    async def list_item_planning(self, db: Database, principal: Principal,
                                 site_id: str | None = None) -> list[ItemPlanning]:
        site = site_in_scope(principal, site_id)
        return [] if site is None else await db.read(planning_queries.item_parameters, site)

    @put("/item-planning/{item_id:str}", opt={"permission": PLAN})
    async def set_item_planning(self, item_id: str, data: PlanningParameters, db: Database, principal: Principal,
                                request: Request) -> ItemPlanning:
        values = msgspec.structs.asdict(data)
        params = ItemPlanning(**{**values, "site_id": _site(principal, data.site_id), "item_id": item_id})
        await _audited(db, request, principal, "planning.item_parameters_set", params.site_id, item_id,
                       msgspec.to_builtins(params), set_item_planning, params, user=principal.username)
        return params

    # -- capacity -------------------------------------------------------------------------------

    @get("/capacity", opt={"permission": "manufacturing.view"})
    async def capacity(self, db: Database, principal: Principal, site_id: str | None = None,
                       work_centre_id: str | None = None, since: date | None = None,
                       until: date | None = None, overloads_only: bool = False) -> CapacityView:
        """Load and capacity per work centre per day in [since, until] (four weeks from today if
        not given), and the overloaded days."""
        site = _site(principal, site_id)
        since = since or datetime.now(timezone.utc).date()
        check_planning_date(since, "manufacturing.invalid_period", "since")
        until = until or since + timedelta(CAPACITY_DAYS - 1)
        if until < since or (until - since).days > 366:
            raise JcerpError("the period runs from since to until, at most a year", code="manufacturing.invalid_period",
                             since=since.isoformat(),
                             until=until.isoformat())
        result = await db.read(planning_queries.capacity, site, since, until, work_centre_id)

        def view(day) -> DayLoadView:
            return DayLoadView(site, day.work_centre_id, day.day, day.load_hours, day.capacity_hours,
                               day.overloaded, list(day.orders))

        overloads = [view(day) for day in result.overloads]
        return CapacityView(site, since, until, overloads if overloads_only else [view(d) for d in result.days],
                            overloads)


CONTROLLERS = [PlanningController]
