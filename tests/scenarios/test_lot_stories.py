"""Lot, serial-number and put-away stories: quality and planners at HQ, clerks with tablets at the
dock, the network coming and going.

Each test reads as what happens; the assertions are what the warehouse, quality and the reviewer
would check afterwards. They run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from edge_client.transport import Unreachable
from erp.inventory.fefo import suggest_picks
from erp.inventory.stock_move import Issue, Receive, Transfer
from erp.purchasing.goods_receipt import ReceivePurchaseOrder, ReturnToSupplier
from erp.sales.delivery import DeliverSalesOrder
from sync.errors import MutationRejected
from sync.ids import new_id
from tests.scenarios.test_sales_stories import customer, sales_order
from tests.support import now


def lot_item(server, sku: str = "MILK-1", shelf_life_days: int | None = 14, tracking: str = "lot") -> str:
    answer = server.post("/api/v1/items", json={"sku": sku, "name": f"鲜牛奶 𠮷 {sku}", "unit_code": "PCS",
                                               "tracking": tracking, "shelf_life_days": shelf_life_days})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def receive_lot(tablet, world, item: str, quantity: str, lot: str, expires: date | None = None,
                location: str | None = None) -> None:
    tablet.run("inventory.receive", Receive(move_id=new_id(), item_id=item, location_id=location or world.location,
                                            quantity=Decimal(quantity), occurred_at=now(), lot_no=lot,
                                            expires_on=expires))


def lots_at_hq(server, world, item: str) -> dict[str, dict]:
    answer = server.get("/api/v1/lots", params={"site_id": world.site, "item_id": item})
    assert answer.status_code == 200, answer.text
    return {lot["lot_no"]: lot for lot in answer.json()}


def test_fefo_picks_the_lot_that_expires_first(server, world, make_edge):
    milk = lot_item(server)
    dock = make_edge("dock", role="warehouse_clerk")
    today = now().date()
    receive_lot(dock, world, milk, "30", "L-LATE", today + timedelta(days=40))
    receive_lot(dock, world, milk, "20", "L-SOON", today + timedelta(days=5), location=world.location2)
    receive_lot(dock, world, milk, "10", "L-DEFAULT")  # no date on the goods: 14 days of shelf life
    dock.sync_once()

    lots = lots_at_hq(server, world, milk)
    assert date.fromisoformat(lots["L-DEFAULT"]["expires_on"]) == today + timedelta(days=14)
    assert Decimal(lots["L-SOON"]["on_hand"]) == 20 and lots["L-SOON"]["locations"][0]["location_id"] == world.location2
    assert list(lots) == ["L-SOON", "L-DEFAULT", "L-LATE"]  # earliest expiry first

    answer = server.get(f"/api/v1/items/{milk}/fefo-picks", params={"site_id": world.site, "quantity": "25"})
    assert answer.status_code == 200, answer.text
    picks = [(p["lot_no"], Decimal(p["quantity"])) for p in answer.json()["items"]]
    assert picks == [("L-SOON", 20), ("L-DEFAULT", 5)] and Decimal(answer.json()["short"]) == 0
    with dock.engine.begin() as conn:  # the tablet suggests the same from its replica, offline or not
        on_tablet = suggest_picks(conn, site_id=world.site, item_id=milk, quantity=Decimal(25))
    assert [(p.lot_no, p.quantity) for p in on_tablet.picks] == picks

    # The picker takes the late lot instead: a fact, recorded as it happened.
    dock.run("inventory.issue", Issue(move_id=new_id(), item_id=milk, location_id=world.location,
                                      quantity=Decimal(5), occurred_at=now(), lot_no="L-LATE"))
    assert dock.sync_once().rejected == 0
    assert Decimal(lots_at_hq(server, world, milk)["L-LATE"]["on_hand"]) == 25
    assert server.get("/api/v1/inventory-exceptions").json() == []


def test_a_lot_held_at_hq_while_the_tablet_was_offline_is_delivered_anyway_and_reaches_the_reviewer(
        server, world, make_edge):
    milk = lot_item(server)
    dock = make_edge("dock", role="warehouse_clerk")
    receive_lot(dock, world, milk, "50", "L-0601", now().date() + timedelta(days=10))
    dock.sync_once()
    order = sales_order(server, world.site, customer(server), [(milk, "20", "6.80")], number="SO-LOT-1")
    dock.sync_once()

    # The dock's Wi-Fi drops; meanwhile quality holds the lot (a retained sample failed).
    dock.transport.online = False
    held = server.post("/api/v1/lots/hold", json={"site_id": world.site, "item_id": milk, "lot_no": "L-0601",
                                                  "reason": "留样检验菌落总数超标"})
    assert held.status_code == 200 and held.json()["status"] == "held"
    # The truck is loaded from the lot the tablet still thinks is free.
    dock.run("sales.deliver", DeliverSalesOrder(delivery_id=new_id(), move_id=new_id(),
                                                order_line_id=order["lines"][0]["id"], location_id=world.location,
                                                quantity=Decimal(20), occurred_at=now(), lot_no="L-0601"))
    with pytest.raises(Unreachable):
        dock.sync_once()

    # Back online: the delivery stands (the goods are gone), and the reviewer is told.
    dock.transport.online = True
    report = dock.sync_once()
    assert report.rejected == 0 and report.pending == 0
    lot = lots_at_hq(server, world, milk)["L-0601"]
    assert lot["status"] == "held" and Decimal(lot["on_hand"]) == 30
    assert server.get(f"/api/v1/sales-orders/{order['id']}").json()["status"] == "delivered"
    [exception] = server.get("/api/v1/inventory-exceptions", params={"status": "open"}).json()
    assert exception["kind"] == "held_lot_moved" and exception["item_id"] == milk
    assert exception["involved"][0]["device_id"] == dock.identity.device_id
    assert exception["involved"][0]["lot_no"] == "L-0601"
    assert server.post(f"/api/v1/inventory-exceptions/{exception['id']}/review",
                       json={"note": "已通知客户召回"}).status_code == 200

    # Now the tablet knows: the next pick of that lot is refused on the spot.
    dock.sync_once()
    with dock.engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT status FROM lots WHERE lot_no = 'L-0601'").scalar() == "held"
    report = dock.verify()  # its lots, lot on-hand and exceptions are the server's, row for row
    assert report.comparable and report.matches, report.differing
    with pytest.raises(MutationRejected) as refused:
        dock.run("inventory.issue", Issue(move_id=new_id(), item_id=milk, location_id=world.location,
                                          quantity=Decimal(1), occurred_at=now(), lot_no="L-0601"))
    assert refused.value.code == "inventory.lot_on_hold"
    # Quality re-tests and releases it; a second release is refused with its reason.
    at_hq = server.post("/api/v1/lots/release", json={"site_id": world.site, "item_id": milk, "lot_no": "L-0601",
                                                      "reason": "复检合格"})
    assert at_hq.status_code == 200 and lots_at_hq(server, world, milk)["L-0601"]["status"] == "released"
    again = server.post("/api/v1/lots/release", json={"site_id": world.site, "item_id": milk, "lot_no": "L-0601",
                                                      "reason": "twice"})
    assert again.status_code == 422 and again.json()["code"] == "inventory.lot_not_held"


def test_a_po_receipt_registers_the_printed_expiry_and_a_held_lot_goes_back_to_the_supplier(
        server, world, make_edge):
    milk = lot_item(server, shelf_life_days=None)
    supplier = server.post("/api/v1/suppliers", json={"code": "S-MILK", "name": "光明乳业 𠮷", "contact": "李"}).json()
    order = server.post("/api/v1/purchase-orders", json={
        "site_id": world.site, "number": "PO-LOT-1", "supplier_id": supplier["id"],
        "lines": [{"item_id": milk, "quantity": "40", "unit_price": "4.20"}]}).json()
    assert server.post(f"/api/v1/purchase-orders/{order['id']}/approve").status_code == 200
    dock = make_edge("dock", role="warehouse_clerk")
    expires = now().date() + timedelta(days=9)
    dock.run("purchasing.receive_po", ReceivePurchaseOrder(
        receipt_id=new_id(), move_id=new_id(), po_line_id=order["lines"][0]["id"], location_id=world.location,
        quantity=Decimal(40), occurred_at=now(), lot_no="GM-240601", expires_on=expires))
    dock.sync_once()
    assert date.fromisoformat(lots_at_hq(server, world, milk)["GM-240601"]["expires_on"]) == expires

    assert server.post("/api/v1/lots/hold", json={"site_id": world.site, "item_id": milk, "lot_no": "GM-240601",
                                                  "reason": "来料检验不合格"}).status_code == 200
    dock.sync_once()
    dock.run("purchasing.return_to_supplier", ReturnToSupplier(
        return_id=new_id(), move_id=new_id(), po_line_id=order["lines"][0]["id"], location_id=world.location,
        quantity=Decimal(40), occurred_at=now(), lot_no="GM-240601"))
    assert dock.sync_once().rejected == 0
    lot = lots_at_hq(server, world, milk)["GM-240601"]
    assert lot["status"] == "held" and Decimal(lot["on_hand"]) == 0
    assert server.get("/api/v1/inventory-exceptions").json() == []


def test_one_pump_scanned_in_on_two_offline_tablets_stands_twice_for_review(server, world, make_edge):
    pump = lot_item(server, sku="PUMP-1", shelf_life_days=None, tracking="serial")
    dock = make_edge("dock", role="warehouse_clerk")
    aisle = make_edge("aisle", role="warehouse_clerk")
    dock.transport.online = aisle.transport.online = False
    for tablet, location in ((dock, world.location), (aisle, world.location2)):
        tablet.run("inventory.receive", Receive(move_id=new_id(), item_id=pump, location_id=location,
                                                quantity=Decimal(1), occurred_at=now(), serial_no="SN-𠮷-0001"))
    dock.transport.online = aisle.transport.online = True
    assert dock.sync_once().rejected == 0 and aisle.sync_once().rejected == 0
    [unit] = server.get(f"/api/v1/items/{pump}/serial-numbers", params={"site_id": world.site}).json()
    assert (unit["serial_no"], unit["status"], unit["location_id"]) == ("SN-𠮷-0001", "in_stock", world.location2)
    [exception] = server.get("/api/v1/inventory-exceptions").json()
    assert exception["kind"] == "serial_in_stock" and exception["involved"][0]["serial_no"] == "SN-𠮷-0001"

    # Once synced, the dock refuses a third scan on the spot, and ships the pump from where it is.
    dock.sync_once()
    with pytest.raises(MutationRejected) as refused:
        dock.run("inventory.receive", Receive(move_id=new_id(), item_id=pump, location_id=world.location,
                                              quantity=Decimal(1), occurred_at=now(), serial_no="SN-𠮷-0001"))
    assert refused.value.code == "inventory.serial_in_stock"
    dock.run("inventory.issue", Issue(move_id=new_id(), item_id=pump, location_id=world.location2,
                                      quantity=Decimal(1), occurred_at=now(), serial_no="SN-𠮷-0001"))
    dock.sync_once()
    [unit] = server.get(f"/api/v1/items/{pump}/serial-numbers", params={"status": "issued"}).json()
    assert unit["location_id"] is None
    report = dock.verify()
    assert report.comparable and report.matches, report.differing


def test_goods_are_put_away_to_the_bin_that_already_holds_the_item(server, world, make_edge):
    def location(code: str, kind: str) -> str:
        answer = server.post("/api/v1/locations", json={"warehouse_id": world.warehouse, "code": code,
                                                        "name": f"库位 {code}", "kind": kind})
        assert answer.status_code == 201 and answer.json()["kind"] == kind, answer.text
        return answer.json()["id"]

    dock_area = location("DOCK", "receiving")
    location("S-01", "storage")
    dock = make_edge("dock", role="warehouse_clerk")
    receive_lot(dock, world, world.item2, "10", "B-1", location=world.location)  # A-01 holds SKU-2 already
    receive_lot(dock, world, world.item, "24", "B-2", location=dock_area)
    dock.sync_once()

    def suggestion() -> dict:
        answer = server.get(f"/api/v1/items/{world.item}/putaway", params={"site_id": world.site})
        assert answer.status_code == 200, answer.text
        [best] = answer.json()
        return best

    empty = suggestion()
    assert (empty["code"], empty["reason"]) == ("A-02", "empty")  # the first empty storage bin by code
    dock.run("inventory.transfer", Transfer(transfer_id=new_id(), out_move_id=new_id(), in_move_id=new_id(),
                                            item_id=world.item, from_location_id=dock_area,
                                            to_location_id=empty["location_id"], quantity=Decimal(24),
                                            occurred_at=now(), lot_no="B-2"))
    dock.sync_once()
    again = suggestion()
    assert (again["location_id"], again["reason"], Decimal(again["on_hand"])) == (empty["location_id"],
                                                                                  "holds_item", 24)
