"""Purchasing stories: buyers at HQ, clerks with tablets at the dock, the network coming and going.

Each test reads as what happens; the assertions are what the buyer, the clerk and the
warehouse would check afterwards. They run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from edge_client.transport import Unreachable
from erp.purchasing.goods_receipt import ReceivePurchaseOrder, ReturnToSupplier
from erp.purchasing.purchase_order import ApprovePurchaseOrder
from sync.ids import new_id
from tests.support import now


def supplier(server, code: str = "SUP-1") -> str:
    answer = server.post("/api/v1/suppliers", json={"code": code, "name": "汉口五金 𠮷 有限公司", "contact": "王经理"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def purchase_order(server, world, quantity: str = "100", *, number: str = "PO-2026-0001", tolerance: str = "0",
                   approve: bool = True) -> dict:
    answer = server.post("/api/v1/purchase-orders", json={
        "site_id": world.site, "number": number, "supplier_id": supplier(server, f"S-{number}"),
        "over_receipt_tolerance": tolerance,
        "lines": [{"item_id": world.item, "quantity": quantity, "unit_price": "2.50"}]})
    assert answer.status_code == 201, answer.text
    order = answer.json()
    if approve:
        approved = server.post(f"/api/v1/purchase-orders/{order['id']}/approve")
        assert approved.status_code == 200, approved.text
        order = approved.json()
    return order


def receive_on(tablet, world, order: dict, quantity: str) -> int:
    return tablet.run("purchasing.receive_po", ReceivePurchaseOrder(
        receipt_id=new_id(), move_id=new_id(), po_line_id=order["lines"][0]["id"], location_id=world.location,
        quantity=Decimal(quantity), occurred_at=now()))


def order_at_hq(server, order: dict) -> dict:
    return server.get(f"/api/v1/purchase-orders/{order['id']}").json()


def on_hand_at_hq(server, world) -> Decimal:
    rows = server.get("/api/v1/on-hand", params={"item_id": world.item, "location_id": world.location}).json()
    return Decimal(rows[0]["quantity"]) if rows else Decimal(0)


def test_a_delivery_in_two_parts_is_received_written_back_and_awaits_its_invoice(server, world, make_edge):
    order = purchase_order(server, world, "100")
    dock = make_edge("dock", role="warehouse_clerk")
    receive_on(dock, world, order, "60")
    dock.sync_once()
    seen = order_at_hq(server, order)
    assert seen["status"] == "partially_received"
    assert Decimal(seen["lines"][0]["received_quantity"]) == 60 and Decimal(seen["lines"][0]["open_quantity"]) == 40
    with dock.engine.begin() as conn:  # the tablet holds its site's order and sees the same
        assert conn.exec_driver_sql("SELECT status FROM purchase_orders").scalar() == "partially_received"

    receive_on(dock, world, order, "40")
    dock.sync_once()
    seen = order_at_hq(server, order)
    assert seen["status"] == "received" and Decimal(seen["lines"][0]["open_quantity"]) == 0
    assert [Decimal(r["quantity"]) for r in seen["receipts"]] == [60, 40]
    assert {r["device_id"] for r in seen["receipts"]} == {dock.identity.device_id}
    assert on_hand_at_hq(server, world) == 100
    [grni] = server.get("/api/v1/purchasing/received-not-invoiced").json()
    assert Decimal(grni["quantity"]) == 100 and Decimal(grni["value"]) == Decimal("250.00")
    assert server.get("/api/v1/purchasing-exceptions").json() == []

    closed = server.post(f"/api/v1/purchase-orders/{order['id']}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert server.get("/api/v1/purchase-orders", params={"open": "true"}).json() == []


def test_hq_cancels_an_order_while_the_dock_is_offline_receiving_it(server, world, make_edge):
    order = purchase_order(server, world, "50")
    dock = make_edge("dock", role="warehouse_clerk")

    # The dock's Wi-Fi drops; the truck is unloaded and received against the order.
    dock.transport.online = False
    receive_on(dock, world, order, "50")
    with pytest.raises(Unreachable):
        dock.sync_once()
    # Meanwhile the buyer cancels the order at HQ (the supplier said it would not deliver).
    cancelled = server.post(f"/api/v1/purchase-orders/{order['id']}/cancel", json={"reason": "供应商取消"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    # The goods are on the shelf: the receipt is recorded, the order stays cancelled, and the
    # buyer gets an exception to sort it out with the supplier.
    dock.transport.online = True
    report = dock.sync_once()
    assert report.rejected == 0 and report.pending == 0
    assert on_hand_at_hq(server, world) == 50
    seen = order_at_hq(server, order)
    assert seen["status"] == "cancelled" and Decimal(seen["lines"][0]["received_quantity"]) == 50
    [exception] = server.get("/api/v1/purchasing-exceptions", params={"status": "open"}).json()
    assert exception["kind"] == "receipt_on_cancelled_po" and Decimal(exception["quantity"]) == 50
    assert exception["involved"]["device_id"] == dock.identity.device_id
    reviewed = server.post(f"/api/v1/purchasing-exceptions/{exception['id']}/review", json={"note": "补签新订单"})
    assert reviewed.status_code == 200
    # Goods received: the order can no longer be cancelled again or approved, only looked at.
    again = server.post(f"/api/v1/purchase-orders/{order['id']}/approve")
    assert again.status_code == 422 and again.json()["code"] == "purchasing.po_cancelled"


def test_an_approval_made_offline_loses_to_a_cancellation_at_hq_with_a_reason(server, world, make_edge):
    order = purchase_order(server, world, "10", approve=False)
    manager = make_edge("manager")  # a branch manager's PC, which may approve orders
    manager.transport.online = False
    manager.run("purchasing.approve_po", ApprovePurchaseOrder(order["id"]))
    with manager.engine.begin() as conn:  # optimistic: approved on the PC for now
        assert conn.exec_driver_sql("SELECT status FROM purchase_orders").scalar() == "approved"
    assert server.post(f"/api/v1/purchase-orders/{order['id']}/cancel", json={}).status_code == 200

    manager.transport.online = True
    report = manager.sync_once()
    assert report.rejected == 1
    [entry] = [e for e in manager.inbox() if e.kind == "rejection"]
    assert entry.code == "purchasing.po_cancelled" and "cancelled" in entry.message
    with manager.engine.begin() as conn:  # the server's state replaces the optimistic one
        assert conn.exec_driver_sql("SELECT status FROM purchase_orders").scalar() == "cancelled"


def test_more_than_the_tolerance_is_received_and_flagged_and_a_return_writes_back(server, world, make_edge):
    order = purchase_order(server, world, "100", tolerance="5")
    dock = make_edge("dock", role="warehouse_clerk")
    receive_on(dock, world, order, "104")  # within 5 %: nothing to flag
    dock.sync_once()
    assert server.get("/api/v1/purchasing-exceptions").json() == []
    receive_on(dock, world, order, "6")  # 110 in all: 5 beyond the tolerance
    dock.sync_once()
    [exception] = server.get("/api/v1/purchasing-exceptions").json()
    assert exception["kind"] == "over_receipt" and Decimal(exception["quantity"]) == 5

    # The extra ten go back to the supplier.
    dock.run("purchasing.return_to_supplier", ReturnToSupplier(
        return_id=new_id(), move_id=new_id(), po_line_id=order["lines"][0]["id"], location_id=world.location,
        quantity=Decimal(10), occurred_at=now()))
    dock.sync_once()
    line = order_at_hq(server, order)["lines"][0]
    assert (Decimal(line["received_quantity"]), Decimal(line["returned_quantity"])) == (110, 10)
    assert order_at_hq(server, order)["status"] == "received"
    assert on_hand_at_hq(server, world) == 100
    kinds = {m["kind"] for m in server.get("/api/v1/movements").json()["items"]}
    assert kinds == {"receipt", "issue"}


def test_an_order_with_goods_received_is_closed_not_cancelled(server, world):
    order = purchase_order(server, world, "10")
    received = server.post(f"/api/v1/purchase-orders/{order['id']}/receipts", json={
        "po_line_id": order["lines"][0]["id"], "location_id": world.location, "quantity": "4"})
    assert received.status_code == 201 and received.json()["status"] == "partially_received"
    refused = server.post(f"/api/v1/purchase-orders/{order['id']}/cancel", json={"reason": "太慢"})
    assert refused.status_code == 422 and refused.json()["code"] == "purchasing.po_has_receipts"
    closed = server.post(f"/api/v1/purchase-orders/{order['id']}/close")
    assert closed.json()["status"] == "closed"
    assert order_at_hq(server, order)["lines"][0]["open_quantity"] == "6"


def test_a_warehouse_clerk_tablet_receives_but_cannot_approve(server, world, make_edge):
    order = purchase_order(server, world, "10", approve=False)
    dock = make_edge("dock", role="warehouse_clerk")
    with dock.engine.begin() as conn:  # the clerk's role may read purchasing: the order is on the tablet
        assert conn.exec_driver_sql("SELECT number FROM purchase_orders").scalar() == "PO-2026-0001"
    dock.run("purchasing.approve_po", ApprovePurchaseOrder(order["id"]))
    dock.sync_once()
    rejections = server.get("/api/v1/rejections", params={"device_id": dock.identity.device_id}).json()
    assert [r["code"] for r in rejections] == ["auth.device_role_forbids"]
    assert order_at_hq(server, order)["status"] == "draft"


def test_a_supplier_code_is_used_once(server):
    supplier(server, "SUP-9")
    again = server.post("/api/v1/suppliers", json={"code": "SUP-9", "name": "另一家"})
    assert again.status_code == 422 and again.json()["code"] == "purchasing.supplier_code_taken"
    assert again.json()["details"]["supplier_code"] == "SUP-9"
