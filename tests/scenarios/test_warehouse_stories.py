"""Warehouse stories, end to end through the HQ API and two or more tablets.

Each test reads as what happens on the floor; the assertions are what the people involved
would check afterwards. They run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from edge_client.transport import Unreachable
from erp.inventory.stock_count import Count
from erp.inventory.stock_move import Reverse
from sync.ids import new_id
from tests.support import issue, now, receive, replica_rows


def on_hand_at_hq(server, world) -> Decimal:
    rows = server.get("/api/v1/on-hand", params={"item_id": world.item, "location_id": world.location}).json()
    return Decimal(rows[0]["quantity"]) if rows else Decimal(0)


def test_the_wifi_drops_two_clerks_ship_the_last_ten_units_and_the_supervisor_reviews_it(server, world, make_edge):
    zhang, li = make_edge("zhang"), make_edge("li")
    receive(zhang, world, "10")
    zhang.sync_once()
    li.sync_once()

    # The warehouse Wi-Fi drops. Both clerks pick the same ten units for two orders.
    zhang.transport.online = li.transport.online = False
    issue(zhang, world, "10")
    issue(li, world, "10")
    for tablet in (zhang, li):
        with pytest.raises(Unreachable):
            tablet.sync_once()

    # The Wi-Fi returns. Both shipments happened, so both are applied: stock is -10.
    zhang.transport.online = li.transport.online = True
    for tablet in (zhang, li, zhang):
        tablet.sync_once()
    assert on_hand_at_hq(server, world) == Decimal(-10)
    [exception] = server.get("/api/v1/inventory-exceptions", params={"status": "open"}).json()
    assert Decimal(exception["quantity"]) == Decimal(-10)
    involved = {(m["device_id"], m["seq"]) for m in exception["involved"]}
    assert involved and {device for device, _ in involved} <= {zhang.identity.device_id, li.identity.device_id}
    for tablet in (zhang, li):  # both tablets show the same stock as HQ
        with tablet.engine.begin() as conn:
            assert Decimal(conn.exec_driver_sql("SELECT quantity FROM on_hand").scalar()) == Decimal(-10)

    # The supervisor reviews it at HQ; the tablets see it closed after their next sync.
    reviewed = server.post(f"/api/v1/inventory-exceptions/{exception['id']}/review",
                           json={"note": "两张订单拣了同一批货，已补货"})
    assert reviewed.status_code == 200
    zhang.sync_once()
    with zhang.engine.begin() as conn:
        statuses = dict(conn.exec_driver_sql("SELECT id, status FROM inventory_exceptions").all())
    assert statuses == {exception["id"]: "reviewed"}


def test_a_count_taken_offline_sets_stock_to_what_was_on_the_shelf(server, world, make_edge):
    receiver, counter = make_edge("receiver"), make_edge("counter")
    receive(receiver, world, "50")
    receiver.sync_once()
    counter.sync_once()

    # The counter walks the aisle offline and finds 47 on the shelf.
    counter.transport.online = False
    counter.run("inventory.count", Count(move_id=new_id(), item_id=world.item, location_id=world.location,
                                         counted_quantity=Decimal(47), occurred_at=now()))
    counter.transport.online = True
    counter.sync_once()

    assert on_hand_at_hq(server, world) == Decimal(47)
    moves = server.get("/api/v1/movements", params={"kind": "count"}).json()["items"]
    assert [Decimal(m["quantity"]) for m in moves] == [Decimal(-3)]
    assert moves[0]["reference"] == "counted 47, system 50"


def test_a_clerk_reverses_a_receipt_booked_to_the_wrong_bin(server, world, make_edge):
    clerk = make_edge("clerk")
    receive(clerk, world, "8")
    clerk.sync_once()
    [wrong] = server.get("/api/v1/movements", params={"kind": "receipt"}).json()["items"]

    clerk.run("inventory.reverse", Reverse(reversal_id=new_id(), move_id=wrong["id"], occurred_at=now(),
                                           reason="收错货位"))
    receive(clerk, world, "8", location=world.location2)
    clerk.sync_once()

    assert on_hand_at_hq(server, world) == Decimal(0)
    moves = server.get("/api/v1/movements").json()["items"]
    assert len(moves) == 3  # the original receipt stays in the ledger, next to its reversal
    [reversal] = [m for m in moves if m["kind"] == "reversal"]
    assert reversal["reverses_id"] == wrong["id"] and Decimal(reversal["quantity"]) == Decimal(-8)

    # Reversing it twice is refused on the tablet at once, with a reason.
    with pytest.raises(Exception) as refused:
        clerk.run("inventory.reverse", Reverse(reversal_id=new_id(), move_id=wrong["id"], occurred_at=now(),
                                               reason="again"))
    assert getattr(refused.value, "code", None) == "inventory.already_reversed"


def test_a_branch_tablet_offline_for_a_week_catches_up_in_batches(server, world, make_edge):
    branch, hq_view = make_edge("branch"), make_edge("observer")
    branch.transport.online = False
    for _ in range(1200):  # more than two push batches of 500
        receive(branch, world, "1")
    assert branch.status().pending == 1200
    branch.transport.online = True
    report = branch.sync_once()
    assert report.pushed == 1200 and report.applied == 1200 and report.rejected == 0
    assert branch.status().pending == 0
    assert on_hand_at_hq(server, world) == Decimal(1200)
    hq_view.sync_once()
    assert len(replica_rows(hq_view, "stock_moves", "id")) == 1200
