"""Quality stories: inspection plans written at HQ, inspectors with tablets at the dock and on the
line, the network coming and going, buyers and QC leads deciding afterwards.

Each test reads as what happens; the assertions are what the inspector, the buyer and the
warehouse would check afterwards. They run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from edge_client.transport import Unreachable
from erp.inventory.stock_move import Issue, Reverse
from erp.purchasing.goods_receipt import ReceivePurchaseOrder
from erp.quality.result import Measurement, RecordResult
from sync.ids import new_id
from tests.support import now, sign_in

LOT = "L-2026-𠮷-001"
PASSWORD = "采购-口令-2026"


def incoming_plan(server, world) -> dict:
    answer = server.post("/api/v1/quality/plans", json={
        "code": "IQC-SKU-1", "name": "螺栓来料检验", "item_id": world.item, "stage": "incoming",
        "sample_kind": "percent", "sample_value": "10",
        "characteristics": [
            {"name": "外径", "kind": "measured", "nominal": "10.00", "lower": "9.95", "upper": "10.05", "unit": "mm"},
            {"name": "外观𠮷", "kind": "attribute"}]})
    assert answer.status_code == 201, answer.text
    return answer.json()


def approved_order(server, world, quantity: str = "200") -> dict:
    supplier = server.post("/api/v1/suppliers", json={"code": "SUP-1", "name": "汉口五金 𠮷 有限公司"}).json()
    order = server.post("/api/v1/purchase-orders", json={
        "site_id": world.site, "number": "PO-2026-0001", "supplier_id": supplier["id"],
        "lines": [{"item_id": world.item, "quantity": quantity, "unit_price": "0.80"}]}).json()
    assert server.post(f"/api/v1/purchase-orders/{order['id']}/approve").status_code == 200
    return order


def receive_lot(dock, world, order: dict, quantity: str = "200") -> tuple[str, str]:
    receipt_id, move_id = new_id(), new_id()
    dock.run("purchasing.receive_po", ReceivePurchaseOrder(
        receipt_id=receipt_id, move_id=move_id, po_line_id=order["lines"][0]["id"], location_id=world.location,
        quantity=Decimal(quantity), occurred_at=now(), lot_no=LOT))
    dock.sync_once()
    return receipt_id, move_id


def inspect(tablet, world, plan: dict, receipt_id: str, *, diameter: str, looks: bool = True) -> str:
    result_id = new_id()
    tablet.run("quality.record_result", RecordResult(
        result_id=result_id, plan_id=plan["id"], stage="incoming", item_id=world.item, site_id=world.site,
        sample_size=20, lot_quantity=Decimal(200), source_id=receipt_id, lot_no=LOT, occurred_at=now(),
        measurements=[Measurement("外径", value=Decimal(diameter)), Measurement("外径", value=Decimal("10.00")),
                      Measurement("外观𠮷", ok=looks)]))
    return result_id


def lot_at_hq(server, world) -> dict:
    [lot] = [lot for lot in server.get("/api/v1/lots", params={"site_id": world.site}).json() if lot["lot_no"] == LOT]
    return lot


def buyer(server) -> None:
    answer = server.post("/api/v1/admin/users", json={"username": "buyer-wang", "display_name": "采购员 王𠮷",
                                                      "password": PASSWORD, "roles": ["buyer"]})
    assert answer.status_code == 201, answer.text


def failed_offline(server, world, make_edge):
    """The story's first half: goods arrive, the tablet inspects them offline and they fail."""
    plan = incoming_plan(server, world)
    order = approved_order(server, world)
    dock = make_edge("dock", role="warehouse_clerk")
    receipt_id, _ = receive_lot(dock, world, order)
    qc = make_edge("qc", role="qc_inspector")
    qc.transport.online = False  # the incoming-inspection bench has no Wi-Fi today
    result_id = inspect(qc, world, plan, receipt_id, diameter="10.09")
    with pytest.raises(Unreachable):
        qc.sync_once()
    with qc.engine.begin() as conn:  # the tablet knows at once: the lot is held on it too
        assert conn.exec_driver_sql("SELECT status FROM lots WHERE lot_no = ?", (LOT,)).scalar() == "held"
    assert lot_at_hq(server, world)["status"] == "released"  # HQ does not know yet
    qc.transport.online = True
    report = qc.sync_once()
    assert report.rejected == 0 and report.pending == 0
    return plan, order, dock, qc, receipt_id, result_id


def test_an_incoming_lot_fails_on_an_offline_tablet_is_held_and_the_buyer_sees_a_nonconformance(server, world,
                                                                                                make_edge):
    plan, order, _dock, _qc, receipt_id, result_id = failed_offline(server, world, make_edge)
    [result] = server.get("/api/v1/quality/results", params={"source_id": receipt_id}).json()
    assert (result["verdict"], result["failed"], result["flags"]) == ("fail", ["外径"], [])
    assert lot_at_hq(server, world)["status"] == "held"
    [ncr] = server.get("/api/v1/quality/nonconformances", params={"status": "open"}).json()
    assert (ncr["result_id"], ncr["lot_no"], ncr["held"], Decimal(ncr["quantity"])) == (result_id, LOT, True, 200)

    buyer(server)
    sign_in(server, "buyer-wang", PASSWORD)
    assert server.get("/api/v1/quality/nonconformances").status_code == 403  # not a quality user...
    [seen] = server.get("/api/v1/quality/supplier-nonconformances", params={"open": "true"}).json()
    assert (seen["id"], seen["po_number"], seen["supplier_id"]) == (ncr["id"], "PO-2026-0001", order["supplier_id"])
    assert server.get("/api/v1/quality/pending").status_code == 403


def test_the_qc_lead_accepts_the_lot_as_is_and_it_can_be_picked_again(server, world, make_edge):
    _plan, _order, dock, _qc, _receipt, _result = failed_offline(server, world, make_edge)
    [ncr] = server.get("/api/v1/quality/nonconformances").json()
    picked = server.post(f"/api/v1/quality/nonconformances/{ncr['id']}/close", json={})
    assert picked.status_code == 422 and picked.json()["code"] == "quality.transition_forbidden"

    decided = server.post(f"/api/v1/quality/nonconformances/{ncr['id']}/disposition",
                          json={"disposition": "use_as_is", "note": "让步接收：外径超差 0.04，装配不受影响"})
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["disposition"]) == ("dispositioned", "use_as_is")
    lot = lot_at_hq(server, world)
    assert lot["status"] == "released" and "use_as_is" in lot["release_reason"]

    # The warehouse picks from the lot again: the tablet learns of the release and nothing is flagged.
    dock.sync_once()
    dock.run("inventory.issue", Issue(move_id=new_id(), item_id=world.item, location_id=world.location,
                                      quantity=Decimal(50), occurred_at=now(), lot_no=LOT))
    assert dock.sync_once().rejected == 0
    assert Decimal(lot_at_hq(server, world)["on_hand"]) == 150
    exceptions = server.get("/api/v1/inventory-exceptions").json()
    assert [e for e in exceptions if e["kind"] == "held_lot_moved"] == []
    closed = server.post(f"/api/v1/quality/nonconformances/{ncr['id']}/close", json={"note": "已放行"})
    assert closed.json()["status"] == "closed"


def test_a_result_recorded_offline_for_a_receipt_hq_reversed_meanwhile_is_kept_and_flagged(server, world, make_edge):
    plan = incoming_plan(server, world)
    order = approved_order(server, world)
    dock = make_edge("dock", role="warehouse_clerk")
    receipt_id, move_id = receive_lot(dock, world, order)
    assert [p["source_id"] for p in server.get("/api/v1/quality/pending").json()] == [receipt_id]
    qc = make_edge("qc", role="qc_inspector")
    qc.transport.online = False
    result_id = inspect(qc, world, plan, receipt_id, diameter="10.01")

    # Meanwhile HQ reverses the receipt (it was keyed against the wrong order).
    server.blocking_portal.call(server.app.state.hq.run, "inventory.reverse", Reverse(
        reversal_id=new_id(), move_id=move_id, occurred_at=now(), reason="收错订单"))
    assert server.get("/api/v1/quality/pending").json() == []  # a reversed receipt is not due

    qc.transport.online = True
    assert qc.sync_once().rejected == 0
    [result] = server.get("/api/v1/quality/results", params={"flagged": "true"}).json()
    assert (result["id"], result["verdict"], result["flags"]) == (result_id, "pass", ["source_reversed"])
    assert [m["characteristic"] for m in result["measurements"]] == ["外径", "外径", "外观𠮷"]
    assert server.get("/api/v1/quality/nonconformances").json() == []
    with qc.engine.begin() as conn:  # the tablet holds the server's flagged copy
        assert conn.exec_driver_sql("SELECT flags FROM inspection_results").scalar() == "source_reversed"


def test_hq_revises_a_plan_while_a_tablet_is_offline_and_the_old_version_s_result_is_flagged(server, world,
                                                                                             make_edge):
    plan = incoming_plan(server, world)
    qc = make_edge("qc", role="qc_inspector")
    qc.transport.online = False
    result_id = new_id()
    qc.run("quality.record_result", RecordResult(
        result_id=result_id, plan_id=plan["id"], stage="incoming", item_id=world.item, site_id=world.site,
        sample_size=2, lot_no="L-OLD", occurred_at=now(),
        measurements=[Measurement("外径", value=Decimal("10.00")), Measurement("外观𠮷", ok=True)]))

    # The quality engineer tightens the limits: version 2, and version 1 is no longer in use.
    revised = server.post(f"/api/v1/quality/plans/{plan['id']}/revisions", json={
        "name": "螺栓来料检验（收紧）", "sample_kind": "fixed", "sample_value": "8",
        "characteristics": [{"name": "外径", "kind": "measured", "lower": "9.98", "upper": "10.02", "unit": "mm"}]})
    assert revised.status_code == 201, revised.text
    assert (revised.json()["version"], revised.json()["supersedes_id"]) == (2, plan["id"])
    assert server.get(f"/api/v1/quality/plans/{plan['id']}").json()["active"] is False
    assert [p["version"] for p in server.get("/api/v1/quality/plans", params={"active": "true"}).json()] == [2]
    again = server.post(f"/api/v1/quality/plans/{plan['id']}/revisions", json={
        "name": "x", "sample_kind": "fixed", "sample_value": "1",
        "characteristics": [{"name": "a", "kind": "attribute"}]})
    assert again.status_code == 422 and again.json()["code"] == "quality.plan_inactive"

    qc.transport.online = True
    assert qc.sync_once().rejected == 0
    [kept] = server.get("/api/v1/quality/results", params={"flagged": "true"}).json()
    assert (kept["id"], kept["plan_id"], kept["verdict"], kept["flags"]) == (result_id, plan["id"], "pass",
                                                                             ["plan_inactive"])
    # A lab report typed in at HQ against version 2: out of the tightened limits.
    lab = server.post("/api/v1/quality/results", json={
        "plan_id": revised.json()["id"], "site_id": world.site, "sample_size": 8, "lot_no": "L-OLD",
        "measurements": [{"characteristic": "外径", "value": "10.03"}]})
    assert lab.status_code == 201, lab.text
    assert (lab.json()["verdict"], lab.json()["stage"], lab.json()["inspector"]) == ("fail", "incoming", "admin")
    bad = server.post("/api/v1/quality/results", json={
        "plan_id": revised.json()["id"], "site_id": world.site, "sample_size": 8,
        "measurements": [{"characteristic": "外观𠮷", "ok": True}]})
    assert bad.status_code == 422 and bad.json()["code"] == "quality.invalid_measurement"
    [ncr] = server.get("/api/v1/quality/nonconformances").json()
    assert lot_at_hq_named(server, world, "L-OLD")["status"] == "held"
    refused = server.post("/api/v1/quality/lot-releases", json={
        "site_id": world.site, "item_id": world.item, "lot_no": "L-OLD", "reason": "急用"})
    assert refused.status_code == 422 and refused.json()["details"]["ncr_id"] == ncr["id"]


def test_an_inspector_holds_a_lot_by_hand_and_raises_a_nonconformance_at_hq(server, world):
    held = server.post("/api/v1/quality/lot-holds", json={
        "site_id": world.site, "item_id": world.item, "lot_no": "L-RECALL", "reason": "供应商质量通知 𠮷"})
    assert held.status_code == 200 and held.json()["status"] == "held"
    assert lot_at_hq_named(server, world, "L-RECALL")["hold_reason"] == "供应商质量通知 𠮷"
    released = server.post("/api/v1/quality/lot-releases", json={
        "site_id": world.site, "item_id": world.item, "lot_no": "L-RECALL", "reason": "通知撤回"})
    assert released.status_code == 200
    assert lot_at_hq_named(server, world, "L-RECALL")["status"] == "released"

    raised = server.post("/api/v1/quality/nonconformances", json={
        "site_id": world.site, "stage": "final", "item_id": world.item, "description": "包装破损",
        "lot_no": "L-RECALL", "quantity": "12"})
    assert raised.status_code == 201, raised.text
    ncr = raised.json()
    assert (ncr["status"], ncr["held"], ncr["result_id"]) == ("open", True, None)
    assert lot_at_hq_named(server, world, "L-RECALL")["status"] == "held"
    wrong = server.post(f"/api/v1/quality/nonconformances/{ncr['id']}/disposition",
                        json={"disposition": "return_to_supplier"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "quality.disposition_not_allowed"
    scrapped = server.post(f"/api/v1/quality/nonconformances/{ncr['id']}/disposition",
                           json={"disposition": "scrap", "quantity": "12", "location_id": world.location})
    assert scrapped.status_code == 200, scrapped.text
    assert Decimal(scrapped.json()["disposition_quantity"]) == 12
    moves = server.get("/api/v1/movements").json()["items"]
    [scrap] = [m for m in moves if m["id"] == scrapped.json()["scrap_move_id"]]
    assert (scrap["kind"], Decimal(scrap["quantity"]), scrap["document_id"]) == ("issue", -12, ncr["id"])
    assert scrap["reference"] == f"NCR {ncr['id']} scrap"
    assert Decimal(lot_at_hq_named(server, world, "L-RECALL")["on_hand"]) == -12  # it was never received here
    closed = server.post(f"/api/v1/quality/nonconformances/{ncr['id']}/close", json={"note": "已报废"})
    assert closed.json()["status"] == "closed"
    assert lot_at_hq_named(server, world, "L-RECALL")["status"] == "released"
    assert server.get("/api/v1/quality/nonconformances/no-such/close").status_code == 405
    missing = server.post("/api/v1/quality/nonconformances/no-such/close", json={})
    assert missing.status_code == 404


def lot_at_hq_named(server, world, lot_no: str) -> dict:
    [lot] = [lot for lot in server.get("/api/v1/lots", params={"site_id": world.site}).json()
             if lot["lot_no"] == lot_no]
    return lot
