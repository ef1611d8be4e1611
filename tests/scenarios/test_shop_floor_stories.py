"""Shop-floor stories, end to end through the HQ API and the tablets on the production line.

The plant makes a gearbox (减速机): a housing and a shaft kit (a phantom: never stocked, its
bolts and gears go straight into the gearbox), plus a nameplate issued by hand. Each test reads
as what happens on the floor; the assertions are what the planner, the cost accountant and the
payroll clerk would check afterwards. They run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from edge_client.transport import Unreachable
from erp.manufacturing.bom import AddBomLine
from erp.manufacturing.completion import ReportCompletion
from erp.manufacturing.material_issue import MaterialMove
from erp.manufacturing.operation_report import ReportOperation
from sync.errors import MutationRejected
from sync.ids import new_id
from tests.support import receive

SHIFT_START = datetime(2026, 3, 2, 0, 30, tzinfo=timezone.utc)  # 08:30 in Wuhan


def at(hours: float) -> datetime:
    return SHIFT_START + timedelta(hours=hours)


@dataclass
class Plant:
    gearbox: str
    housing: str
    nameplate: str
    bolt: str
    gear: str
    shaft_kit: str
    bom: str
    routing: str
    assembly: str  # work centre of operation 10
    testing: str  # work centre of operation 20


def post(server, path: str, body: dict, status: int = 201) -> dict:
    response = server.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def build_plant(server, world) -> Plant:
    """Items, standard costs, a calendar, two work centres, a routing and released BOMs, via HQ."""
    def item(sku: str, name: str, cost: str | None = None) -> str:
        item_id = post(server, "/api/v1/items", {"sku": sku, "name": name, "unit_code": world.unit})["id"]
        if cost is not None:
            answer = server.put(f"/api/v1/manufacturing/standard-costs/{item_id}", json={"standard_cost": cost})
            assert answer.status_code == 200, answer.text
        return item_id

    gearbox = item("FG-100", "减速机 𠮷")
    housing, nameplate = item("C-HSG", "箱体", "120.50"), item("C-NPL", "铭牌", "3.20")
    bolt, gear = item("C-BLT", "螺栓 M8", "0.35"), item("C-GER", "齿轮", "45")
    shaft_kit = item("K-SHF", "轴组件 (虚拟件)")

    calendar = post(server, "/api/v1/manufacturing/calendars", {
        "code": "WH-2026", "name": "武汉 2026", "working_weekdays": [0, 1, 2, 3, 4, 5],
        "holidays": ["2026-02-17"], "extra_working_days": ["2026-02-14"]})["id"]
    assembly = post(server, "/api/v1/manufacturing/work-centres", {
        "site_id": world.site, "code": "ASM-1", "name": "装配线 1", "calendar_id": calendar,
        "capacity_hours_per_day": "16", "labour_rate": "36", "overhead_rate": "20"})["id"]
    testing = post(server, "/api/v1/manufacturing/work-centres", {
        "site_id": world.site, "code": "TST-1", "name": "试验台 1", "calendar_id": calendar,
        "capacity_hours_per_day": "8", "labour_rate": "40", "overhead_rate": "12.5"})["id"]
    routing = post(server, "/api/v1/manufacturing/routings", {
        "site_id": world.site, "item_id": gearbox, "code": "RT-FG-100", "name": "减速机工艺"})["id"]
    post(server, f"/api/v1/manufacturing/routings/{routing}/operations", {
        "sequence": 10, "name": "装配", "work_centre_id": assembly, "setup_hours": "0.5", "run_hours_per_unit": "0.2"})
    post(server, f"/api/v1/manufacturing/routings/{routing}/operations", {
        "sequence": 20, "name": "试验", "work_centre_id": testing, "run_hours_per_unit": "0.25"})

    kit_bom = post(server, "/api/v1/manufacturing/boms", {"item_id": shaft_kit})["id"]
    post(server, f"/api/v1/manufacturing/boms/{kit_bom}/lines",
         {"component_item_id": bolt, "quantity_per": "4", "backflush": True})
    post(server, f"/api/v1/manufacturing/boms/{kit_bom}/lines",
         {"component_item_id": gear, "quantity_per": "2", "scrap_factor": "0.1", "backflush": True})
    post(server, f"/api/v1/manufacturing/boms/{kit_bom}/release", {}, status=200)

    bom = post(server, "/api/v1/manufacturing/boms", {"item_id": gearbox, "note": "首版"})["id"]
    post(server, f"/api/v1/manufacturing/boms/{bom}/lines",
         {"component_item_id": housing, "quantity_per": "1", "scrap_factor": "0.05", "backflush": True})
    post(server, f"/api/v1/manufacturing/boms/{bom}/lines", {"component_item_id": shaft_kit, "quantity_per": "1",
                                                             "phantom": True})
    post(server, f"/api/v1/manufacturing/boms/{bom}/lines", {"component_item_id": nameplate, "quantity_per": "1"})
    released = post(server, f"/api/v1/manufacturing/boms/{bom}/release", {}, status=200)
    assert released["status"] == "released" and released["version"] == 1
    return Plant(gearbox, housing, nameplate, bolt, gear, shaft_kit, bom, routing, assembly, testing)


def work_order(server, world, plant: Plant, number: str, quantity: str = "10", *, release: bool = True) -> dict:
    order = post(server, "/api/v1/manufacturing/work-orders", {
        "site_id": world.site, "number": number, "item_id": plant.gearbox, "quantity": quantity,
        "due_date": "2026-03-06", "issue_location_id": world.location, "receipt_location_id": world.location2,
        "routing_id": plant.routing})
    assert order["status"] == "planned" and order["bom_id"] == plant.bom
    if release:
        order = post(server, f"/api/v1/manufacturing/work-orders/{order['id']}/release", {}, status=200)
        assert order["status"] == "released"
    return order


def stock_the_line(edge, world, plant: Plant) -> None:
    """The warehouse brings components to the line-side location."""
    for item, quantity in ((plant.housing, "30"), (plant.nameplate, "30"), (plant.bolt, "100"), (plant.gear, "50")):
        receive(edge, world, quantity, item=item)
    edge.sync_once()


def report(tablet, order: dict, seq: int, event: str, operator: str, when: datetime, good: str = "0",
           scrap: str = "0") -> None:
    tablet.run("manufacturing.report_operation", ReportOperation(
        report_id=new_id(), work_order_id=order["id"], operation_seq=seq, event=event, operator=operator,
        occurred_at=when, good_quantity=Decimal(good), scrap_quantity=Decimal(scrap)))


def complete(tablet, order: dict, quantity: str, when: datetime) -> None:
    tablet.run("manufacturing.report_completion", ReportCompletion(
        completion_id=new_id(), work_order_id=order["id"], quantity=Decimal(quantity), occurred_at=when))


def detail(server, order: dict) -> dict:
    response = server.get(f"/api/v1/manufacturing/work-orders/{order['id']}")
    assert response.status_code == 200, response.text
    return response.json()


def on_hand(server, item: str, location: str) -> Decimal:
    rows = server.get("/api/v1/on-hand", params={"item_id": item, "location_id": location}).json()
    return Decimal(rows[0]["quantity"]) if rows else Decimal(0)


def test_an_offline_tablet_reports_the_shift_and_completes_ten_gearboxes_with_backflush(server, world, make_edge):
    plant = build_plant(server, world)
    stock_the_line(make_edge("warehouse"), world, plant)
    order = work_order(server, world, plant, "WO-2026-0001")

    # The BOM was exploded through the phantom shaft kit, scrap allowances included.
    required = {m["item_id"]: (m["backflush"], Decimal(m["required_quantity"])) for m in detail(server, order)["materials"]}
    assert required == {plant.housing: (True, Decimal("10.5")), plant.nameplate: (False, Decimal(10)),
                        plant.bolt: (True, Decimal(40)), plant.gear: (True, Decimal(22))}

    tablet = make_edge("line-1", role="shop_floor_operator")
    tablet.transport.online = False  # the workshop Wi-Fi is down all morning
    tablet.run("manufacturing.issue_material", MaterialMove(
        move_id=new_id(), work_order_id=order["id"], item_id=plant.nameplate, quantity=Decimal(10),
        occurred_at=at(0)))
    report(tablet, order, 10, "start", "张三", at(0))
    report(tablet, order, 10, "finish", "张三", at(2), good="10")
    report(tablet, order, 20, "start", "李四", at(2))
    report(tablet, order, 20, "pause", "李四", at(3), good="4")  # lunch
    report(tablet, order, 20, "start", "李四", at(3.5))
    report(tablet, order, 20, "finish", "李四", at(5), good="6", scrap="1")
    complete(tablet, order, "10", at(5))
    with pytest.raises(Unreachable):
        tablet.sync_once()

    # On the tablet, before any sync: the order shows completed and the line-side stock consumed.
    with tablet.engine.connect() as conn:
        status, completed = conn.exec_driver_sql("SELECT status, completed_quantity FROM work_orders").one()
        backflushed = conn.exec_driver_sql("SELECT COUNT(*) FROM stock_moves WHERE kind = 'wo_backflush'").scalar()
    assert (status, Decimal(completed), backflushed) == ("completed", Decimal(10), 3)

    tablet.transport.online = True
    sync = tablet.sync_once()
    assert sync.applied == 8 and sync.rejected == 0

    seen = detail(server, order)
    assert seen["work_order"]["status"] == "completed"
    assert Decimal(seen["work_order"]["completed_quantity"]) == 10
    moves = {(m["kind"], m["item_id"]): Decimal(m["quantity"]) for m in seen["moves"]}
    assert moves == {("wo_issue", plant.nameplate): Decimal(-10), ("wo_backflush", plant.housing): Decimal("-10.5"),
                     ("wo_backflush", plant.bolt): Decimal(-40), ("wo_backflush", plant.gear): Decimal(-22),
                     ("wo_receipt", plant.gearbox): Decimal(10)}
    assert all(m["document_id"] == order["id"] and m["reference"] == "WO-2026-0001" for m in seen["moves"])
    assert on_hand(server, plant.gearbox, world.location2) == 10
    assert on_hand(server, plant.bolt, world.location) == 60
    assert [r["operator"] for r in seen["reports"]] == ["张三", "张三", "李四", "李四", "李四", "李四"]
    operations = {o["sequence"]: o for o in seen["operations"]}
    assert (operations[10]["status"], Decimal(operations[10]["good_quantity"]),
            Decimal(operations[10]["worked_hours"])) == ("finished", 10, 2)
    assert (Decimal(operations[20]["good_quantity"]), Decimal(operations[20]["scrap_quantity"]),
            Decimal(operations[20]["worked_hours"])) == (10, 1, Decimal("2.5"))

    # The cost accountant's view: standard costs × consumption, hours × the centres' rates.
    cost = seen["cost"]
    material = Decimal("10.5") * Decimal("120.50") + 10 * Decimal("3.20") + 40 * Decimal("0.35") + 22 * 45
    assert Decimal(cost["material"]) == material
    assert Decimal(cost["labour"]) == 2 * 36 + Decimal("2.5") * 40
    assert Decimal(cost["overhead"]) == 2 * 20 + Decimal("2.5") * Decimal("12.5")
    assert Decimal(cost["total"]) == Decimal(cost["material"]) + Decimal(cost["labour"]) + Decimal(cost["overhead"])
    assert Decimal(cost["unit_cost"]) == Decimal(cost["total"]) / 10
    assert cost["uncosted_items"] == []
    assert server.get(f"/api/v1/manufacturing/work-orders/{order['id']}/cost").json() == cost
    assert server.get("/api/v1/manufacturing/exceptions").json() == []


def test_hq_cancels_the_order_while_the_tablet_is_offline_and_the_shift_is_still_recorded(server, world, make_edge):
    plant = build_plant(server, world)
    stock_the_line(make_edge("warehouse"), world, plant)
    order = work_order(server, world, plant, "WO-2026-0002", "5")
    tablet = make_edge("line-1", role="shop_floor_operator")
    tablet.transport.online = False

    # The planner cancels the order at HQ (a customer withdrew), not knowing work had begun.
    cancelled = post(server, f"/api/v1/manufacturing/work-orders/{order['id']}/cancel",
                     {"note": "客户撤单"}, status=200)
    assert cancelled["status"] == "cancelled"

    report(tablet, order, 10, "start", "王五", at(0))
    report(tablet, order, 10, "finish", "王五", at(1.5), good="2")
    complete(tablet, order, "2", at(1.5))
    tablet.transport.online = True
    sync = tablet.sync_once()
    assert sync.applied == 3 and sync.rejected == 0  # physical facts are never refused

    seen = detail(server, order)
    assert seen["work_order"]["status"] == "cancelled"  # the decision stands
    assert Decimal(seen["work_order"]["completed_quantity"]) == 2  # but the two gearboxes exist
    assert on_hand(server, plant.gearbox, world.location2) == 2
    assert len(seen["reports"]) == 2
    [exception] = server.get("/api/v1/manufacturing/exceptions", params={"status": "open"}).json()
    assert (exception["work_order_id"], exception["kind"], exception["order_status"]) == (
        order["id"], "after_cancel", "cancelled")
    assert {i["device_id"] for i in exception["involved"]} == {tablet.identity.device_id}
    assert [i["mutation"] for i in exception["involved"]] == [
        "manufacturing.report_operation", "manufacturing.report_operation", "manufacturing.report_completion"]
    # 王五 is paid for the work he did.
    [line] = server.get("/api/v1/manufacturing/piece-rate", params={"site_id": world.site}).json()
    assert (line["operator"], Decimal(line["good_quantity"])) == ("王五", 2)

    # The tablet learns the order was cancelled; the supervisor reviews the exception.
    with tablet.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT status FROM work_orders").scalar() == "cancelled"
    reviewed = post(server, f"/api/v1/manufacturing/exceptions/{exception['id']}/review",
                    {"note": "两台已入库，转其他订单"}, status=200)
    assert reviewed["status"] == "reviewed"
    refused = server.post(f"/api/v1/manufacturing/work-orders/{order['id']}/release", json={})
    assert refused.status_code == 422 and refused.json()["code"] == "manufacturing.invalid_transition"


def test_a_released_bom_cannot_be_edited_and_a_change_is_a_new_version(server, world, make_edge):
    plant = build_plant(server, world)
    [line] = [line for line in server.get(f"/api/v1/manufacturing/boms/{plant.bom}").json()["lines"]
              if line["component_item_id"] == plant.nameplate]

    for response in (
        server.post(f"/api/v1/manufacturing/boms/{plant.bom}/lines",
                    json={"component_item_id": plant.bolt, "quantity_per": "2"}),
        server.patch(f"/api/v1/manufacturing/bom-lines/{line['id']}",
                     json={"quantity_per": {"value": "2", "base_version": line["field_versions"]["quantity_per"]}}),
        server.delete(f"/api/v1/manufacturing/bom-lines/{line['id']}"),
    ):
        assert response.status_code == 422 and response.json()["code"] == "manufacturing.bom_not_editable"
    # A manager's tablet is told so at once, offline too.
    manager = make_edge("manager")
    with pytest.raises(MutationRejected) as refused:
        manager.run("manufacturing.add_bom_line", AddBomLine(line_id=new_id(), bom_id=plant.bom,
                                                             component_item_id=plant.bolt, quantity_per=Decimal(2)))
    assert refused.value.code == "manufacturing.bom_not_editable"

    # Engineering makes version 2: a copy of version 1, now with two nameplates (CE and CCC).
    v2 = post(server, f"/api/v1/manufacturing/boms/{plant.bom}/new-version", {"note": "双铭牌"})
    assert (v2["version"], v2["status"], len(v2["lines"])) == (2, "draft", 3)
    [copied] = [line for line in v2["lines"] if line["component_item_id"] == plant.nameplate]
    answer = server.patch(f"/api/v1/manufacturing/bom-lines/{copied['id']}", json={
        "quantity_per": {"value": "2", "base_version": copied["field_versions"]["quantity_per"]}})
    assert answer.status_code == 200 and answer.json()["conflicts"] == []
    post(server, f"/api/v1/manufacturing/boms/{v2['id']}/release", {}, status=200)
    post(server, f"/api/v1/manufacturing/boms/{plant.bom}/obsolete", {}, status=200)

    versions = {b["version"]: b["status"] for b in
                server.get("/api/v1/manufacturing/boms", params={"item_id": plant.gearbox}).json()}
    assert versions == {1: "obsolete", 2: "released"}
    assert [line["quantity_per"] for line in server.get(f"/api/v1/manufacturing/boms/{plant.bom}").json()["lines"]
            if line["component_item_id"] == plant.nameplate] == ["1"]  # version 1 is unchanged
    order = post(server, "/api/v1/manufacturing/work-orders", {
        "site_id": world.site, "number": "WO-V2", "item_id": plant.gearbox, "quantity": "3", "due_date": "2026-03-09",
        "issue_location_id": world.location, "receipt_location_id": world.location2})
    assert order["bom_id"] == v2["id"]  # new orders take the latest released version
    nameplates = [m for m in detail(server, order)["materials"] if m["item_id"] == plant.nameplate]
    assert [Decimal(m["required_quantity"]) for m in nameplates] == [Decimal(6)]
    from_obsolete = server.post("/api/v1/manufacturing/work-orders", json={
        "site_id": world.site, "number": "WO-V1", "item_id": plant.gearbox, "quantity": "1",
        "due_date": "2026-03-09", "issue_location_id": world.location, "receipt_location_id": world.location2,
        "bom_id": plant.bom})
    assert from_obsolete.status_code == 422 and from_obsolete.json()["code"] == "manufacturing.bom_not_released"


def test_piece_rate_totals_per_operator_and_operation_for_the_pay_period(server, world, make_edge):
    plant = build_plant(server, world)
    first, second = (work_order(server, world, plant, number) for number in ("WO-PR-1", "WO-PR-2"))
    tablet = make_edge("line-1", role="shop_floor_operator")
    report(tablet, first, 10, "finish", "张三", at(1), good="6")
    report(tablet, second, 10, "finish", "张三", at(2), good="4", scrap="1")
    report(tablet, first, 20, "finish", "张三", at(3), good="5")
    report(tablet, first, 20, "finish", "李四", at(3), good="3")
    report(tablet, second, 10, "finish", "李四", at(30), good="9")  # the next day: another period
    report(tablet, second, 20, "finish", "李四", at(4), good="100")  # a typo...
    tablet.sync_once()
    [typo] = [r for r in detail(server, second)["reports"] if r["good_quantity"] == "100"]
    reversal = post(server, f"/api/v1/manufacturing/reports/{typo['id']}/reverse", {"reason": "录入错误"})
    assert reversal["reverses_id"] == typo["id"]  # ...corrected by the supervisor, not erased

    period = {"site_id": world.site, "since": at(0).isoformat(), "until": at(24).isoformat()}
    lines = server.get("/api/v1/manufacturing/piece-rate", params=period).json()
    totals = {(line["operator"], line["operation_seq"]): (Decimal(line["good_quantity"]), Decimal(line["scrap_quantity"]),
                                                         line["work_orders"]) for line in lines}
    assert totals == {("张三", 10): (10, 1, 2), ("张三", 20): (5, 0, 1), ("李四", 20): (3, 0, 1)}
    assert {line["operation_name"] for line in lines} == {"装配", "试验"}
    assert {line["work_centre_id"] for line in lines} == {plant.assembly, plant.testing}
    whole = server.get("/api/v1/manufacturing/piece-rate", params={"site_id": world.site}).json()
    assert sum(Decimal(line["good_quantity"]) for line in whole) == 27


def test_material_returned_to_stock_nets_out_and_returning_more_than_was_issued_is_flagged(server, world, make_edge):
    plant = build_plant(server, world)
    stock_the_line(make_edge("warehouse"), world, plant)
    order = work_order(server, world, plant, "WO-RET")
    issued = post(server, f"/api/v1/manufacturing/work-orders/{order['id']}/issue",
                  {"item_id": plant.nameplate, "quantity": "12"})
    assert issued["work_order"]["status"] == "in_progress"  # the first material issue starts it
    post(server, f"/api/v1/manufacturing/work-orders/{order['id']}/top-up", {"item_id": plant.nameplate, "quantity": "1"})
    post(server, f"/api/v1/manufacturing/work-orders/{order['id']}/return", {"item_id": plant.nameplate, "quantity": "3"})
    [nameplate] = [m for m in detail(server, order)["materials"] if m["item_id"] == plant.nameplate]
    assert Decimal(nameplate["issued_quantity"]) == 10
    assert on_hand(server, plant.nameplate, world.location) == 20
    assert server.get("/api/v1/manufacturing/exceptions").json() == []

    post(server, f"/api/v1/manufacturing/work-orders/{order['id']}/return", {"item_id": plant.nameplate, "quantity": "11"})
    [exception] = server.get("/api/v1/manufacturing/exceptions").json()
    assert exception["kind"] == "over_return"
    not_used = server.post(f"/api/v1/manufacturing/work-orders/{order['id']}/issue",
                           json={"item_id": plant.shaft_kit, "quantity": "1"})
    assert not_used.status_code == 422 and not_used.json()["code"] == "manufacturing.not_a_component"
