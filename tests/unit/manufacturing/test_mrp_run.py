"""The MRP service on SQLite (``erp/manufacturing/mrp_run.py``): a site's sales orders,
forecasts, stock, open purchase and work orders and released BOMs are read into the calculator,
and its planned orders are stored with their pegging; a new run replaces open proposals;
conversion (``planned_order_conversion.py``) creates draft purchase orders per supplier and
planned work orders through the mutations, once."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, select

from erp.manufacturing import errors
from erp.manufacturing.demand_forecast import Forecast, forecasts, record_forecast
from erp.manufacturing.errors import InvalidTransition, PlanningRefused
from erp.manufacturing.item_planning import ItemPlanning, set_item_planning
from erp.manufacturing.mrp_run import gather, run_site
from erp.manufacturing.planned_order import change_status, mark
from erp.manufacturing.planned_order_conversion import convert
from erp.manufacturing.planning_data import DemandKind, ReceiptKind
from erp.manufacturing import planning_queries
from erp.manufacturing.work_order import wo_materials, work_orders
from erp.purchasing.purchase_order import purchase_order_lines, purchase_orders
from sync.context import Actor, MutationContext, MutationRef, Side
from sync.registry import Registry, discover
from sync.schema import metadata
from tests.unit.handler_runner import apply_in_savepoint

HQ = Actor(None, None, "计划员𠮷")
RUN_DATE = date(2026, 3, 2)  # a Monday
D = Decimal


@dataclass
class Site:
    conn: Connection
    registry: Registry
    site: str = "site-A"
    version: int = 0
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def run(self, name: str, /, **args: Any) -> None:
        definition = self.registry.resolve_latest(name)
        self.version += 1
        ref = MutationRef(None, self.version, name, 1, f"{self.version:015d}-00000-x")
        ctx = MutationContext(self.conn, self.registry, Side.SERVER, HQ, ref, commit_version=self.version)
        apply_in_savepoint(self.conn, definition, ctx, args)

    def rows(self, table, **where: Any) -> list[Any]:
        return self.conn.execute(select(table).where(*(table.c[k] == v for k, v in where.items()))).mappings().all()

    def plan(self, item: str, procurement: str, **params: Any) -> None:
        set_item_planning(self.conn, ItemPlanning(self.site, item, procurement, **params), user=HQ.user)

    def sales_order(self, number: str, item: str, quantity: str, requested: date, *, confirm: bool = True) -> str:
        line_id = f"{number}/1"
        self.run("sales.create_order", order_id=number, site_id=self.site, number=number, customer_id="cust",
                 lines=[{"line_id": line_id, "item_id": item, "quantity": D(quantity), "unit_price": D(100)}],
                 requested_at=datetime.combine(requested, datetime.min.time(), timezone.utc))
        if confirm:
            self.run("sales.confirm_order", order_id=number)
        return line_id

    def orders_of(self, run_id: str) -> list[Any]:
        return planning_queries.run_orders(self.conn, run_id)


class Runner:
    """Conversion's view of HQ, on the test's connection: reads, writes, mutations as HQ."""

    user = HQ.user

    def __init__(self, site: Site) -> None:
        self.site = site

    async def read(self, fn, *args, **kwargs):
        return fn(self.site.conn, *args, **kwargs)

    write = read

    async def run(self, name: str, args: Any) -> None:
        from msgspec.structs import asdict
        self.site.run(name, **asdict(args))


@pytest.fixture
def plant() -> Site:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        metadata.create_all(conn)
        site = Site(conn, discover())
        site.run("org.create_site", site_id=site.site, code="F1", name="汉阳工厂", kind="factory")
        site.run("org.create_site", site_id="site-B", code="F2", name="武昌工厂", kind="factory")
        site.run("inventory.create_unit", code="PCS", name="件")
        for item in ("gearbox", "housing", "bolt", "paint"):
            site.run("inventory.create_item", item_id=item, sku=item.upper(), name=f"{item} 𠮷", unit_code="PCS")
        site.run("inventory.create_warehouse", warehouse_id="wh", site_id=site.site, code="WH", name="总仓",
                 negative_stock_policy="flag")
        site.run("inventory.create_warehouse", warehouse_id="wh-b", site_id="site-B", code="WH-B", name="武昌仓",
                 negative_stock_policy="flag")
        for location, warehouse in (("line", "wh"), ("fg", "wh"), ("b-1", "wh-b")):
            site.run("inventory.create_location", location_id=location, warehouse_id=warehouse, code=location,
                     name=location)
        site.run("manufacturing.create_working_calendar", calendar_id="cal", code="CAL", name="2026 作息")
        site.run("manufacturing.create_work_centre", work_centre_id="asm", site_id=site.site, code="ASM",
                 name="装配线", calendar_id="cal", capacity_hours_per_day=D(8))
        site.run("manufacturing.create_routing", routing_id="rt", site_id=site.site, item_id="gearbox", code="RT",
                 name="减速机")
        site.run("manufacturing.add_routing_operation", operation_id="op-10", routing_id="rt", sequence=10,
                 name="装配", work_centre_id="asm", setup_hours=D(1), run_hours_per_unit=D("0.5"))
        site.run("manufacturing.create_bom", bom_id="bom", item_id="gearbox")
        site.run("manufacturing.add_bom_line", line_id="l1", bom_id="bom", component_item_id="housing",
                 quantity_per=D(1), scrap_factor=D("0.05"))
        site.run("manufacturing.add_bom_line", line_id="l2", bom_id="bom", component_item_id="bolt",
                 quantity_per=D(4))
        site.run("manufacturing.release_bom", bom_id="bom")
        site.run("purchasing.create_supplier", supplier_id="sup", code="S1", name="武汉铸造厂𠮷")
        site.run("sales.create_customer", customer_id="cust", code="C1", name="东风客户")
        site.plan("gearbox", "make", lead_time_days=2, work_centre_id="asm", routing_id="rt",
                  issue_location_id="line", receipt_location_id="fg")
        site.plan("housing", "buy", lead_time_days=3, supplier_id="sup", unit_price=D("88.5"))
        site.plan("bolt", "buy", safety_stock=D(100), lot_rule="fixed_quantity", lot_quantity=D(500))
        site.run("inventory.receive", move_id="m1", item_id="gearbox", location_id="fg", quantity=D(5),
                 occurred_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
        yield site


def test_sales_orders_forecasts_stock_and_open_purchase_orders_become_pegged_planned_orders(plant):
    so_line = plant.sales_order("SO-1", "gearbox", "30", date(2026, 3, 16))
    plant.sales_order("SO-DRAFT", "gearbox", "100", date(2026, 3, 16), confirm=False)  # not demand yet
    record_forecast(plant.conn, Forecast("fc-1", plant.site, "gearbox", date(2026, 3, 23), D(20)), user=HQ.user)
    record_forecast(plant.conn, Forecast("fc-b", "site-B", "gearbox", date(2026, 3, 23), D(999)), user=HQ.user)
    plant.run("purchasing.create_po", po_id="po-1", site_id=plant.site, number="PO-1", supplier_id="sup",
              lines=[{"line_id": "pol-1", "item_id": "housing", "quantity": D(12), "unit_price": D(88)}],
              expected_at=datetime(2026, 3, 9, tzinfo=timezone.utc))
    plant.run("purchasing.approve_po", po_id="po-1")
    plant.run("purchasing.create_po", po_id="po-x", site_id=plant.site, number="PO-X", supplier_id="sup",
              lines=[{"line_id": "pol-x", "item_id": "housing", "quantity": D(1000), "unit_price": D(88)}])
    plant.run("purchasing.cancel_po", po_id="po-x")  # cancelled: no supply

    data = gather(plant.conn, plant.site, RUN_DATE)
    assert sorted((d.demand_id, d.kind, d.quantity) for d in data.demands) == [
        ("forecast:fc-1", DemandKind.FORECAST, D(20)), (f"sales_order_line:{so_line}", DemandKind.SALES_ORDER, D(30))]
    assert [(r.receipt_id, r.kind, r.quantity) for r in data.scheduled_receipts] == [
        ("purchase_order_line:pol-1", ReceiptKind.PURCHASE_ORDER, D(12))]
    assert sorted((line.parent_id, line.component_id, line.quantity_per) for line in data.bom_lines) == [
        ("gearbox", "bolt", D(4)), ("gearbox", "housing", D("1.05"))]

    summary = run_site(plant.conn, plant.site, RUN_DATE, user=HQ.user)
    assert (summary.items, summary.demand_lines, summary.make_proposals, summary.purchase_proposals) == (3, 2, 2, 3)
    orders = {(o.item_id, o.due_date): o for o in plant.orders_of(summary.id)}
    made_for_so = orders[("gearbox", date(2026, 3, 16))]
    assert (made_for_so.kind, made_for_so.quantity, made_for_so.release_date) == ("make", D(25), date(2026, 3, 12))
    assert [(p.source, p.demand_ref, p.quantity) for p in made_for_so.pegging] == [
        ("demand", f"sales_order_line:{so_line}", D(25))]  # 30 ordered, 5 in stock
    made_for_forecast = orders[("gearbox", date(2026, 3, 23))]
    assert [(p.source, p.demand_ref, p.quantity) for p in made_for_forecast.pegging] == [
        ("demand", "forecast:fc-1", D(20))]
    # housing: 25 × 1.05 = 26.25 needed on the 12th, 12 arrive on the 9th; 21 more on the 19th
    housing = orders[("housing", date(2026, 3, 12))]
    assert (housing.kind, housing.quantity, housing.release_date) == ("purchase", D("14.25"), date(2026, 3, 9))
    assert [(p.source, p.demand_ref, p.quantity) for p in housing.pegging] == [
        ("planned_order", made_for_so.id, D("14.25"))]
    assert orders[("housing", date(2026, 3, 19))].quantity == D(21)
    # bolts: one fixed lot of 500 on the run date rebuilds the safety stock and covers both orders
    bolts = orders[("bolt", RUN_DATE)]
    assert bolts.quantity == D(500)
    assert sorted((p.source, p.demand_ref, p.quantity) for p in bolts.pegging) == sorted([
        ("safety_stock", "bolt", D(100)), ("planned_order", made_for_so.id, D(100)),
        ("planned_order", made_for_forecast.id, D(80)), ("lot_size_excess", "bolt", D(220))])
    for order in orders.values():
        assert sum(p.quantity for p in order.pegging) == order.quantity


def test_open_work_orders_are_supply_and_their_unissued_material_is_demand(plant):
    plant.run("manufacturing.create_work_order", work_order_id="wo-1", site_id=plant.site, number="WO-1",
              item_id="gearbox", quantity=D(10), due_date=date(2026, 3, 10), issue_location_id="line",
              receipt_location_id="fg", routing_id="rt")
    plant.sales_order("SO-2", "gearbox", "12", date(2026, 3, 11))
    data = gather(plant.conn, plant.site, RUN_DATE)
    assert [(r.receipt_id, r.quantity, r.due_date) for r in data.scheduled_receipts] == [
        ("work_order:wo-1", D(10), date(2026, 3, 10))]
    material = sorted((d.demand_id, d.item_id, d.quantity, d.due_date) for d in data.demands
                      if d.kind is DemandKind.WORK_ORDER_COMPONENT)
    # needed when the order starts: its due date less the gearbox's 2 working days
    assert material == [("work_order_material:wo-1/1", "bolt", D(40), date(2026, 3, 6)),
                        ("work_order_material:wo-1/2", "housing", D("10.5"), date(2026, 3, 6))]
    summary = run_site(plant.conn, plant.site, RUN_DATE, user=HQ.user)
    orders = plant.orders_of(summary.id)
    assert [o for o in orders if o.item_id == "gearbox"] == []  # 5 in stock + 10 on the order cover 12
    [housing] = [o for o in orders if o.item_id == "housing"]
    assert (housing.quantity, housing.due_date) == (D("10.5"), date(2026, 3, 6))
    assert [(p.source, p.demand_ref) for p in housing.pegging] == [("demand", "work_order_material:wo-1/2")]


def test_a_new_run_replaces_open_proposals_and_counts_converted_ones_as_supply(plant):
    plant.sales_order("SO-1", "gearbox", "30", date(2026, 3, 16))
    first = run_site(plant.conn, plant.site, RUN_DATE, user=HQ.user)
    housing = [o for o in plant.orders_of(first.id) if o.item_id == "housing"]
    report = asyncio.run(convert(Runner(plant), plant.site, [o.id for o in housing]))
    [po_id] = report.purchase_orders
    [po] = plant.rows(purchase_orders, id=po_id)
    assert (po["status"], po["supplier_id"], po["created_by"]) == ("draft", "sup", HQ.user)
    assert sorted(l["unit_price"] for l in plant.rows(purchase_order_lines, po_id=po_id)) == [D("88.5")]

    second = run_site(plant.conn, plant.site, RUN_DATE, user=HQ.user)
    assert second.discarded == first.make_proposals + first.purchase_proposals - len(housing)
    statuses = {o.id: o.status for o in plant.orders_of(first.id)}
    assert {statuses[o.id] for o in housing} == {"converted"}
    assert set(statuses.values()) == {"converted", "discarded"}
    # the draft order is supply now: the housing it holds is not proposed again
    assert [o for o in plant.orders_of(second.id) if o.item_id == "housing"] == []
    assert {o.status for o in plant.orders_of(second.id)} == {"proposed"}


def test_conversion_makes_one_draft_po_per_supplier_and_planned_work_orders_once(plant):
    plant.sales_order("SO-1", "gearbox", "30", date(2026, 3, 16))
    run = run_site(plant.conn, plant.site, RUN_DATE, user=HQ.user)
    report = asyncio.run(convert(Runner(plant), plant.site, None))
    outcomes = {o.planned_order_id: o for o in report.outcomes}
    orders = {o.id: o for o in plant.orders_of(run.id)}
    not_converted = {orders[i].item_id: o.reason for i, o in outcomes.items() if not o.converted}
    assert not_converted == {"bolt": errors.NO_SUPPLIER}  # bolts have no supplier in their parameters
    assert len(report.purchase_orders) == 1  # both housing proposals, one supplier
    [line] = plant.rows(purchase_order_lines, po_id=report.purchase_orders[0])
    assert line["quantity"] == D("26.25")
    [wo_id] = report.work_orders
    [wo] = plant.rows(work_orders, id=wo_id)
    assert (wo["status"], wo["item_id"], wo["quantity"], wo["due_date"], wo["routing_id"]) == (
        "planned", "gearbox", D(25), "2026-03-16", "rt")
    assert {m["item_id"] for m in plant.rows(wo_materials, work_order_id=wo_id)} == {"housing", "bolt"}

    again = asyncio.run(convert(Runner(plant), plant.site, list(orders)))
    assert (again.purchase_orders, again.work_orders) == ([], [])
    assert all(not o.created for o in again.outcomes)
    assert {o.document_id for o in again.outcomes if o.converted} == {report.purchase_orders[0], wo_id}
    assert len(plant.rows(purchase_orders)) == 1 and len(plant.rows(work_orders)) == 1


def test_a_lost_mark_is_recovered_without_a_second_document(plant):
    plant.sales_order("SO-1", "gearbox", "30", date(2026, 3, 16))
    run = run_site(plant.conn, plant.site, RUN_DATE, user=HQ.user)
    [make] = [o for o in plant.orders_of(run.id) if o.kind == "make"]
    first = asyncio.run(convert(Runner(plant), plant.site, [make.id]))
    # the document exists, but the proposal is put back as if its mark had been lost
    from sqlalchemy import update
    from erp.manufacturing.planned_order import planned_orders
    plant.conn.execute(update(planned_orders).where(planned_orders.c.id == make.id)
                       .values(status="proposed", converted_document_id=None))
    again = asyncio.run(convert(Runner(plant), plant.site, [make.id]))
    assert again.work_orders == [] and again.outcomes[0].document_id == first.work_orders[0]
    assert len(plant.rows(work_orders)) == 1


def test_planned_order_states_and_refused_planning_data(plant):
    assert change_status("proposed", "convert") == "converted"
    for status, event in (("converted", "discard"), ("discarded", "convert"), ("converted", "convert")):
        with pytest.raises(InvalidTransition):
            change_status(status, event)
    with pytest.raises(InvalidTransition) as unknown:
        mark(plant.conn, ["nope"], "discard", user=None)
    assert unknown.value.code == errors.UNKNOWN_PLANNED_ORDER
    with pytest.raises(PlanningRefused) as refusal:
        plant.plan("bolt", "buy", lot_rule="fixed_quantity", lot_quantity=D(500), lot_minimum=D(10))
    assert refusal.value.code == errors.INVALID_PLANNING_PARAMETERS
    with pytest.raises(PlanningRefused):
        plant.plan("bolt", "buy", supplier_id="no-such-supplier")
    with pytest.raises(PlanningRefused) as bad_forecast:
        record_forecast(plant.conn, Forecast("f", plant.site, "bolt", RUN_DATE, D(0)), user=None)
    assert bad_forecast.value.code == errors.INVALID_FORECAST
    with pytest.raises(PlanningRefused):
        record_forecast(plant.conn, Forecast("f", plant.site, "bolt", date(202, 3, 2), D(1)), user=None)
    assert forecasts(plant.conn, plant.site) == []
    with pytest.raises(PlanningRefused):
        plant.plan("bolt", "buy", lead_time_days=10 ** 6)
    with pytest.raises(PlanningRefused) as no_site:
        run_site(plant.conn, "no-such-site", RUN_DATE, user=None)
    assert no_site.value.code == errors.UNKNOWN_SITE


def test_capacity_of_the_site_counts_open_work_orders_and_open_make_proposals(plant):
    plant.run("manufacturing.create_work_order", work_order_id="wo-1", site_id=plant.site, number="WO-1",
              item_id="gearbox", quantity=D(10), due_date=date(2026, 3, 4), issue_location_id="line",
              receipt_location_id="fg", routing_id="rt")
    plant.sales_order("SO-1", "gearbox", "30", date(2026, 3, 16))
    run = run_site(plant.conn, plant.site, RUN_DATE, user=HQ.user)
    [proposal] = [o for o in plant.orders_of(run.id) if o.kind == "make"]
    result = planning_queries.capacity(plant.conn, plant.site, RUN_DATE, date(2026, 3, 20))
    load = {day.day: day for day in result.days}
    # WO-1: 1 + 0.5 × 10 = 6 hours over the two working days before 4 March (lead time 2)
    assert (load[date(2026, 3, 2)].load_hours, load[date(2026, 3, 3)].load_hours) == (D(3), D(3))
    # the proposal (30 ordered − 5 in stock − 10 on WO-1) loads the working days from its
    # release on 12 March up to its due date on the 16th: Thursday and Friday
    assert proposal.quantity == D(15)
    expected = D(1) + D("0.5") * D(15)
    assert load[date(2026, 3, 12)].load_hours + load[date(2026, 3, 13)].load_hours == expected
    assert load[date(2026, 3, 12)].orders == (proposal.id,)
    assert [d.day for d in result.overloads] == [d.day for d in result.days if d.load_hours > d.capacity_hours]
