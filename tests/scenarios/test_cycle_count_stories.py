"""Cycle-count stories: a count planned at HQ, counted blind on a warehouse tablet with the network
coming and going, reviewed and approved (or cancelled) at HQ.

Each test reads as what happens; the assertions are what the stock controller, the counter and
the warehouse would check afterwards. They run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from edge_client.transport import Unreachable
from erp.inventory.cycle_count import RecordCount, SubmitCycleCount
from sync.ids import new_id
from tests.support import now, receive


def plan_count(server, world, number: str = "PD-2026-03-01") -> dict:
    answer = server.post("/api/v1/cycle-counts", json={
        "warehouse_id": world.warehouse, "number": number, "note": "三月循环盘点 𠮷",
        "lines": [{"item_id": world.item, "location_id": world.location},
                  {"item_id": world.item2, "location_id": world.location2}]})
    assert answer.status_code == 201, answer.text
    return answer.json()


def count_on(tablet, line: dict, quantity: str) -> int:
    return tablet.run("inventory.record_count", RecordCount(entry_id=new_id(), line_id=line["id"],
                                                            counted_quantity=Decimal(quantity), occurred_at=now()))


def on_hand_at_hq(server, item: str, location: str) -> Decimal:
    rows = server.get("/api/v1/on-hand", params={"item_id": item, "location_id": location}).json()
    return Decimal(rows[0]["quantity"]) if rows else Decimal(0)


def test_a_count_taken_offline_on_a_tablet_reaches_hq_the_variance_is_approved_and_on_hand_matches_the_shelf(
        server, world, make_edge):
    tablet = make_edge("counter", role="warehouse_clerk")
    receive(tablet, world, "50")
    receive(tablet, world, "8", location=world.location2, item=world.item2)
    tablet.sync_once()
    count = plan_count(server, world)
    assert count["status"] == "open" and [line["line_no"] for line in count["lines"]] == [1, 2]
    tablet.sync_once()  # the tablet receives the count to do
    with tablet.engine.begin() as conn:  # blind: the tablet holds what to count, not what the system says
        rows = conn.exec_driver_sql("SELECT counted_quantity, system_quantity FROM cycle_count_lines").all()
    assert rows == [(None, None), (None, None)]

    # The Wi-Fi in the back aisles drops; the counter counts both shelves anyway.
    tablet.transport.online = False
    first, second = count["lines"]
    count_on(tablet, first, "47")
    count_on(tablet, second, "8")
    tablet.run("inventory.submit_cycle_count", SubmitCycleCount(count["id"]))
    with pytest.raises(Unreachable):
        tablet.sync_once()
    assert server.get(f"/api/v1/cycle-counts/{count['id']}").json()["status"] == "open"

    tablet.transport.online = True
    report = tablet.sync_once()
    assert report.rejected == 0 and report.pending == 0
    seen = server.get(f"/api/v1/cycle-counts/{count['id']}").json()
    assert seen["status"] == "submitted"
    assert [(Decimal(l["counted_quantity"]), Decimal(l["system_quantity"]), Decimal(l["difference"]))
            for l in seen["lines"]] == [(47, 50, -3), (8, 8, 0)]
    assert {e["device_id"] for e in seen["entries"]} == {tablet.identity.device_id}

    # The stock controller reviews what is off by more than 2 units, then approves.
    [variance] = server.get(f"/api/v1/cycle-counts/{count['id']}/variances", params={"tolerance": "2"}).json()
    assert variance["sku"] == "SKU-1" and Decimal(variance["difference"]) == -3
    assert server.get(f"/api/v1/cycle-counts/{count['id']}/variances", params={"tolerance": "3"}).json() == []
    approved = server.post(f"/api/v1/cycle-counts/{count['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert on_hand_at_hq(server, world.item, world.location) == 47
    assert on_hand_at_hq(server, world.item2, world.location2) == 8
    moves = server.get("/api/v1/movements", params={"kind": "count"}).json()["items"]
    assert sorted(Decimal(m["quantity"]) for m in moves) == [-3, 0]
    assert {m["document_id"] for m in moves} == {count["id"]}

    tablet.sync_once()  # the shelf, the ledger and the tablet agree
    with tablet.engine.begin() as conn:
        held = conn.exec_driver_sql("SELECT quantity FROM on_hand WHERE item_id = ? AND location_id = ?",
                                    (world.item, world.location)).scalar()
        status = conn.exec_driver_sql("SELECT status FROM cycle_counts").scalar()
    assert Decimal(str(held)) == 47 and status == "approved"


def test_hq_cancels_a_count_while_the_tablet_is_counting_the_tablets_counts_are_kept_and_flagged(
        server, world, make_edge):
    tablet = make_edge("counter", role="warehouse_clerk")
    receive(tablet, world, "20")
    tablet.sync_once()
    count = plan_count(server, world)
    tablet.sync_once()

    tablet.transport.online = False
    count_on(tablet, count["lines"][0], "18")
    with tablet.engine.begin() as conn:  # optimistic: counting, on the tablet
        assert conn.exec_driver_sql("SELECT status FROM cycle_counts").scalar() == "counting"
    cancelled = server.post(f"/api/v1/cycle-counts/{count['id']}/cancel", json={"reason": "改为全面盘点"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    # What was counted on the shelf is a fact: recorded, not refused, and flagged for review.
    tablet.transport.online = True
    report = tablet.sync_once()
    assert report.rejected == 0 and report.pending == 0
    seen = server.get(f"/api/v1/cycle-counts/{count['id']}").json()
    assert seen["status"] == "cancelled" and seen["cancel_reason"] == "改为全面盘点"
    [entry] = seen["entries"]
    assert entry["flag"] == "cancelled" and Decimal(entry["counted_quantity"]) == 18
    assert entry["device_id"] == tablet.identity.device_id
    assert seen["lines"][0]["counted_quantity"] is None
    [exception] = server.get("/api/v1/inventory-exceptions", params={"status": "open"}).json()
    assert exception["kind"] == "count_after_cancelled" and Decimal(exception["quantity"]) == 18
    assert on_hand_at_hq(server, world.item, world.location) == 20  # no move from a cancelled count
    refused = server.post(f"/api/v1/cycle-counts/{count['id']}/approve")
    assert refused.status_code == 422 and refused.json()["code"] == "inventory.count_cancelled"
    with tablet.engine.begin() as conn:  # the server's state replaces the optimistic one
        assert conn.exec_driver_sql("SELECT status FROM cycle_counts").scalar() == "cancelled"
        assert conn.exec_driver_sql("SELECT counted_quantity FROM cycle_count_lines WHERE line_no = 1").scalar() is None


def test_hq_plans_this_weeks_count_from_abc_classes_and_the_ledger(server, world, make_edge):
    tablet = make_edge("counter", role="warehouse_clerk")
    receive(tablet, world, "5")
    receive(tablet, world, "9", location=world.location2, item=world.item2)
    receive(tablet, world, "1", location=world.location2)  # the same item on a second shelf
    tablet.sync_once()
    # Both items were never counted: both are due, every shelf holding them is a line.
    planned = server.post("/api/v1/cycle-counts", json={
        "warehouse_id": world.warehouse, "number": "PD-W1", "abc_classes": {world.item: "A", world.item2: "C"}})
    assert planned.status_code == 201, planned.text
    lines = planned.json()["lines"]
    assert sorted((line["item_id"], line["location_id"]) for line in lines) == sorted(
        [(world.item, world.location), (world.item, world.location2), (world.item2, world.location2)])
    # Counted today, nothing is due until its interval has passed.
    server.post(f"/api/v1/cycle-counts/{planned.json()['id']}/counts",
                json={"line_id": lines[0]["id"], "counted_quantity": "5"})
    server.post(f"/api/v1/cycle-counts/{planned.json()['id']}/submit")
    assert server.post(f"/api/v1/cycle-counts/{planned.json()['id']}/approve").status_code == 200
    again = server.post("/api/v1/cycle-counts", json={
        "warehouse_id": world.warehouse, "number": "PD-W2", "abc_classes": {world.item: "A"}, "due_limit": 5})
    assert again.status_code == 201
    assert {line["item_id"] for line in again.json()["lines"]} == {world.item2}
    listed = server.get("/api/v1/cycle-counts", params={"site_id": world.site, "status": "open"}).json()
    assert [c["number"] for c in listed] == ["PD-W2"]
