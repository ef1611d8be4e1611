"""The planning HQ API (``server/api/planning.py``) on SQLite and PostgreSQL: planning
parameters and a forecast are set, MRP runs for a site, its planned orders come back with their
pegging, one call converts them into a draft purchase order and a planned work order, and a
second call creates nothing; capacity shows the load; a site-bound planner plans their site only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support import sign_in

RUN_DATE = "2026-03-02"  # a Monday


def created(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
def plant(server, world) -> dict:
    """A gearbox made of a housing (bought) at the world's site, with its master data."""
    item = lambda sku, name: created(server.post("/api/v1/items", json={"sku": sku, "name": name,
                                                                        "unit_code": "PCS"}))["id"]
    gearbox, housing = item("GB-1", "减速机 𠮷"), item("HS-1", "箱体")
    calendar = created(server.post("/api/v1/manufacturing/calendars", json={"code": "CAL", "name": "2026"}))["id"]
    centre = created(server.post("/api/v1/manufacturing/work-centres", json={
        "site_id": world.site, "code": "ASM", "name": "装配线", "calendar_id": calendar,
        "capacity_hours_per_day": "8"}))["id"]
    routing = created(server.post("/api/v1/manufacturing/routings", json={
        "site_id": world.site, "item_id": gearbox, "code": "RT-1", "name": "减速机"}))["id"]
    created(server.post(f"/api/v1/manufacturing/routings/{routing}/operations", json={
        "sequence": 10, "name": "装配", "work_centre_id": centre, "setup_hours": "1", "run_hours_per_unit": "0.5"}))
    bom = created(server.post("/api/v1/manufacturing/boms", json={"item_id": gearbox}))["id"]
    created(server.post(f"/api/v1/manufacturing/boms/{bom}/lines", json={"component_item_id": housing,
                                                                        "quantity_per": "2"}))
    created(server.post(f"/api/v1/manufacturing/boms/{bom}/release"))
    supplier = created(server.post("/api/v1/suppliers", json={"code": "S-1", "name": "汉口铸造 𠮷"}))["id"]
    customer = created(server.post("/api/v1/customers", json={"code": "C-1", "name": "东风 𠮷"}))["id"]
    return {"gearbox": gearbox, "housing": housing, "centre": centre, "routing": routing, "supplier": supplier,
            "customer": customer}


def plan_the_plant(server, world, plant) -> dict:
    created(server.put(f"/api/v1/planning/item-planning/{plant['gearbox']}", json={
        "site_id": world.site, "procurement": "make", "lead_time_days": 2, "work_centre_id": plant["centre"],
        "routing_id": plant["routing"], "issue_location_id": world.location, "receipt_location_id": world.location2}))
    created(server.put(f"/api/v1/planning/item-planning/{plant['housing']}", json={
        "site_id": world.site, "procurement": "buy", "lead_time_days": 3, "supplier_id": plant["supplier"],
        "unit_price": "35.50", "lot_rule": "lot_for_lot", "lot_multiple": "10"}))
    order = created(server.post("/api/v1/sales-orders", json={
        "site_id": world.site, "number": "SO-1", "customer_id": plant["customer"],
        "requested_at": "2026-03-16T00:00:00Z",
        "lines": [{"item_id": plant["gearbox"], "quantity": "8", "unit_price": "1200"}]}))
    created(server.post(f"/api/v1/sales-orders/{order['id']}/confirm"))
    forecast = created(server.post("/api/v1/planning/forecasts", json={
        "site_id": world.site, "item_id": plant["gearbox"], "due_date": "2026-03-23", "quantity": "4"}))
    return {"order": order, "forecast": forecast}


def test_run_convert_and_convert_again(server, world, plant):
    demand = plan_the_plant(server, world, plant)
    assert [f["id"] for f in server.get("/api/v1/planning/forecasts", params={"site_id": world.site}).json()] == [
        demand["forecast"]["id"]]

    run = created(server.post("/api/v1/planning/mrp-runs", json={"site_id": world.site, "run_date": RUN_DATE}))
    assert (run["make_proposals"], run["purchase_proposals"], run["demand_lines"]) == (2, 2, 2)
    assert [r["id"] for r in server.get("/api/v1/planning/mrp-runs", params={"site_id": world.site}).json()] == [
        run["id"]]
    orders = created(server.get(f"/api/v1/planning/mrp-runs/{run['id']}/planned-orders"))
    by_due = {(o["item_id"], o["due_date"]): o for o in orders}
    made = by_due[(plant["gearbox"], "2026-03-16")]
    so_line = created(server.get(f"/api/v1/sales-orders/{demand['order']['id']}"))["lines"][0]["id"]
    assert (made["quantity"], made["release_date"], made["pegging"]) == (
        "8", "2026-03-12", [{"source": "demand", "demand_ref": f"sales_order_line:{so_line}", "quantity": "8"}])
    housing = by_due[(plant["housing"], "2026-03-12")]
    assert Decimal(housing["quantity"]) == 20  # 8 × 2, in multiples of 10
    assert {(p["source"], p["demand_ref"]) for p in housing["pegging"]} >= {("planned_order", made["id"])}

    report = created(server.post("/api/v1/planning/planned-orders/convert",
                                 json={"site_id": world.site, "planned_order_ids": "all"}))
    assert all(o["converted"] and o["created"] for o in report["outcomes"]), report
    [po_id] = report["purchase_orders"]
    assert len(report["work_orders"]) == 2
    po = created(server.get(f"/api/v1/purchase-orders/{po_id}"))
    assert (po["status"], po["supplier_id"], sorted(Decimal(l["quantity"]) for l in po["lines"])) == (
        "draft", plant["supplier"], [Decimal(10), Decimal(20)])
    detail = created(server.get(f"/api/v1/manufacturing/work-orders/{report['work_orders'][0]}"))
    assert (detail["work_order"]["status"], detail["work_order"]["item_id"]) == ("planned", plant["gearbox"])
    assert [(m["item_id"], Decimal(m["required_quantity"])) for m in detail["materials"]] in (
        [(plant["housing"], Decimal(16))], [(plant["housing"], Decimal(8))])  # 8 or 4 gearboxes × 2

    again = created(server.post("/api/v1/planning/planned-orders/convert",
                                json={"site_id": world.site, "planned_order_ids": [o["id"] for o in orders]}))
    assert (again["purchase_orders"], again["work_orders"]) == ([], [])
    assert all(o["converted"] and not o["created"] for o in again["outcomes"])
    assert len(server.get("/api/v1/purchase-orders", params={"site_id": world.site}).json()) == 1
    assert len(server.get("/api/v1/manufacturing/work-orders", params={"site_id": world.site}).json()["items"]) == 2
    statuses = {o["status"] for o in server.get(f"/api/v1/planning/mrp-runs/{run['id']}/planned-orders").json()}
    assert statuses == {"converted"}

    # the converted orders are supply now: a new run proposes nothing more
    rerun = created(server.post("/api/v1/planning/mrp-runs", json={"site_id": world.site, "run_date": RUN_DATE}))
    assert (rerun["make_proposals"], rerun["purchase_proposals"], rerun["discarded"]) == (0, 0, 0)

    capacity = created(server.get("/api/v1/planning/capacity", params={
        "site_id": world.site, "since": "2026-03-12", "until": "2026-03-20"}))
    total = sum(Decimal(day["load_hours"]) for day in capacity["items"])
    assert total == (1 + Decimal("0.5") * 8) + (1 + Decimal("0.5") * 4)  # both planned work orders
    assert capacity["overloads"] == [d for d in capacity["items"] if d["overloaded"]]


def test_bad_planning_data_is_a_problem_and_a_site_bound_planner_plans_their_site_only(server, world, plant):
    bad = server.put(f"/api/v1/planning/item-planning/{plant['housing']}", json={
        "site_id": world.site, "procurement": "buy", "lot_rule": "fixed_quantity"})
    assert bad.status_code == 422 and bad.json()["code"] == "manufacturing.invalid_planning_parameters"
    zero = server.post("/api/v1/planning/forecasts", json={"site_id": world.site, "item_id": plant["gearbox"],
                                                            "due_date": "2026-03-23", "quantity": "0"})
    assert zero.status_code == 422 and zero.json()["code"] == "manufacturing.invalid_forecast"

    created(server.post("/api/v1/admin/users", json={
        "username": "planner", "display_name": "计划员 𠮷", "password": "计划-口令-2026", "roles": ["branch_manager"],
        "site_id": world.site}))
    sign_in(server, "planner", "计划-口令-2026")
    outside = server.post("/api/v1/planning/mrp-runs", json={"site_id": world.other_site, "run_date": RUN_DATE})
    assert outside.status_code == 403 and outside.json()["code"] == "auth.out_of_site"
    inside = created(server.post("/api/v1/planning/mrp-runs", json={"site_id": world.site, "run_date": RUN_DATE}))
    assert inside["run_by"] == "planner"
    assert server.get("/api/v1/planning/capacity", params={"site_id": world.other_site}).status_code == 403
    missing = server.get("/api/v1/planning/mrp-runs/no-such-run/planned-orders")
    assert missing.status_code == 404 and missing.json()["code"] == "manufacturing.unknown_run"
