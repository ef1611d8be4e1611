"""Planning stories: a branch sells from its tablet, HQ plans the factory with MRP, converts
the proposals in one call, and the shop floor and the dock work from what was converted.

Each test reads as what happens; the assertions are what the planner, the buyer and the shop
floor would check afterwards. They run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from erp.sales.sales_order import CreateSalesOrder, NewLine
from sync.ids import new_id
from tests.support import replica_rows

RUN_DATE = "2026-03-02"  # a Monday


def ok(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
def factory(server, world) -> dict:
    """An electric-motor plant: motors are assembled from a stator bought from one supplier."""
    item = lambda sku, name: ok(server.post("/api/v1/items", json={"sku": sku, "name": name,
                                                                   "unit_code": "PCS"}))["id"]
    motor, stator = item("MT-1", "电机 𠮷"), item("ST-1", "定子")
    calendar = ok(server.post("/api/v1/manufacturing/calendars", json={"code": "CAL", "name": "2026"}))["id"]
    line = ok(server.post("/api/v1/manufacturing/work-centres", json={
        "site_id": world.site, "code": "ASM", "name": "总装线", "calendar_id": calendar,
        "capacity_hours_per_day": "8"}))["id"]
    routing = ok(server.post("/api/v1/manufacturing/routings", json={
        "site_id": world.site, "item_id": motor, "code": "RT-MT", "name": "电机装配"}))["id"]
    ok(server.post(f"/api/v1/manufacturing/routings/{routing}/operations", json={
        "sequence": 10, "name": "总装", "work_centre_id": line, "setup_hours": "2", "run_hours_per_unit": "1"}))
    bom = ok(server.post("/api/v1/manufacturing/boms", json={"item_id": motor}))["id"]
    ok(server.post(f"/api/v1/manufacturing/boms/{bom}/lines", json={"component_item_id": stator, "quantity_per": "1"}))
    ok(server.post(f"/api/v1/manufacturing/boms/{bom}/release"))
    supplier = ok(server.post("/api/v1/suppliers", json={"code": "S-ST", "name": "襄阳定子厂 𠮷"}))["id"]
    customer = ok(server.post("/api/v1/customers", json={"code": "C-9", "name": "武汉地铁 𠮷"}))["id"]
    ok(server.put(f"/api/v1/planning/item-planning/{motor}", json={
        "site_id": world.site, "procurement": "make", "lead_time_days": 3, "work_centre_id": line,
        "routing_id": routing, "issue_location_id": world.location, "receipt_location_id": world.location2}))
    ok(server.put(f"/api/v1/planning/item-planning/{stator}", json={
        "site_id": world.site, "procurement": "buy", "lead_time_days": 5, "supplier_id": supplier,
        "unit_price": "420"}))
    return {"motor": motor, "stator": stator, "line": line, "customer": customer, "supplier": supplier}


def run_mrp(server, world) -> dict:
    return ok(server.post("/api/v1/planning/mrp-runs", json={"site_id": world.site, "run_date": RUN_DATE}))


def test_an_order_taken_offline_at_the_branch_is_planned_converted_and_reaches_the_shop_floor(
        server, world, factory, make_edge):
    sales_tablet = make_edge("branch-sales")
    sales_tablet.transport.online = False
    order_id = new_id()
    sales_tablet.run("sales.create_order", CreateSalesOrder(
        order_id, world.site, "SO-OFFLINE-1", factory["customer"],
        [NewLine(new_id(), factory["motor"], Decimal(6), Decimal("3800"))],
        requested_at=datetime(2026, 3, 20, tzinfo=timezone.utc)))
    # Until the tablet is back online, HQ has nothing to plan for.
    assert run_mrp(server, world)["make_proposals"] == 0

    sales_tablet.transport.online = True
    sales_tablet.sync_once()
    ok(server.post(f"/api/v1/sales-orders/{order_id}/confirm"))
    run = run_mrp(server, world)
    assert (run["make_proposals"], run["purchase_proposals"]) == (1, 1)
    orders = ok(server.get(f"/api/v1/planning/mrp-runs/{run['id']}/planned-orders"))
    [motor] = [o for o in orders if o["item_id"] == factory["motor"]]
    assert motor["pegging"][0]["demand_ref"].startswith("sales_order_line:")

    report = ok(server.post("/api/v1/planning/planned-orders/convert",
                            json={"site_id": world.site, "planned_order_ids": "all"}))
    [work_order_id] = report["work_orders"]
    ok(server.post(f"/api/v1/manufacturing/work-orders/{work_order_id}/release", json={}))
    shop_floor = make_edge("assembly-tablet")
    [(number, status)] = [(row.number, row.status) for row in replica_rows(shop_floor, "work_orders", "number")]
    assert number.startswith("WO-MRP-") and status == "released"


def test_stators_received_against_the_converted_order_are_not_planned_again(server, world, factory):
    order = ok(server.post("/api/v1/sales-orders", json={
        "site_id": world.site, "number": "SO-2", "customer_id": factory["customer"],
        "requested_at": "2026-03-20T00:00:00Z",
        "lines": [{"item_id": factory["motor"], "quantity": "10", "unit_price": "3800"}]}))
    ok(server.post(f"/api/v1/sales-orders/{order['id']}/confirm"))
    first = run_mrp(server, world)
    stators = [o for o in ok(server.get(f"/api/v1/planning/mrp-runs/{first['id']}/planned-orders"))
               if o["kind"] == "purchase"]
    report = ok(server.post("/api/v1/planning/planned-orders/convert",
                            json={"site_id": world.site, "planned_order_ids": [o["id"] for o in stators]}))
    [po_id] = report["purchase_orders"]
    po = ok(server.post(f"/api/v1/purchase-orders/{po_id}/approve"))
    ok(server.post(f"/api/v1/purchase-orders/{po_id}/receipts", json={
        "po_line_id": po["lines"][0]["id"], "location_id": world.location, "quantity": "10"}))

    # The next run replaces the motor proposal, and buys no stators: they are in stock.
    second = run_mrp(server, world)
    assert (second["discarded"], second["make_proposals"], second["purchase_proposals"]) == (1, 1, 0)
    earlier = ok(server.get(f"/api/v1/planning/mrp-runs/{first['id']}/planned-orders"))
    statuses = {o["kind"]: o["status"] for o in earlier}
    assert statuses == {"purchase": "converted", "make": "discarded"}


def test_a_rush_order_overloads_the_assembly_line_and_the_planner_sees_which_order(server, world, factory):
    order = ok(server.post("/api/v1/sales-orders", json={
        "site_id": world.site, "number": "SO-RUSH", "customer_id": factory["customer"],
        "requested_at": "2026-03-04T00:00:00Z",
        "lines": [{"item_id": factory["motor"], "quantity": "40", "unit_price": "3800"}]}))
    ok(server.post(f"/api/v1/sales-orders/{order['id']}/confirm"))
    run = run_mrp(server, world)
    [proposal] = [o for o in ok(server.get(f"/api/v1/planning/mrp-runs/{run['id']}/planned-orders"))
                  if o["kind"] == "make"]
    assert proposal["past_due"]  # three working days before 4 March is 27 February, before the run date
    capacity = ok(server.get("/api/v1/planning/capacity", params={
        "site_id": world.site, "since": "2026-02-26", "until": "2026-03-06", "overloads_only": "true"}))
    # 2 + 40 × 1 = 42 hours over 27 Feb, 2 and 3 March: 14 a day on an 8-hour line
    assert [(d["day"], Decimal(d["load_hours"]), d["orders"]) for d in capacity["items"]] == [
        ("2026-02-27", Decimal(14), [proposal["id"]]), ("2026-03-02", Decimal(14), [proposal["id"]]),
        ("2026-03-03", Decimal(14), [proposal["id"]])]
