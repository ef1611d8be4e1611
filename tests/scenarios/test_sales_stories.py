"""Sales and after-sales stories: sales at HQ, the dock's tablet, a branch service office, the
network coming and going.

Each test reads as what happens; the assertions are what sales, the warehouse, the customer
service desk and the customer would check afterwards. They run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from edge_client.transport import Unreachable
from erp.sales.business_day import business_date
from erp.sales.delivery import DeliverSalesOrder, ReturnFromCustomer
from erp.sales.sales_order import ConfirmSalesOrder
from erp.service.ticket import AssignTicket, OpenTicket
from erp.service.visit import RecordVisit
from erp.service.warranty import warranty_until
from sync.ids import new_id
from tests.support import now, receive


def customer(server, code: str = "C-1", credit_limit: str | None = "100000") -> str:
    answer = server.post("/api/v1/customers", json={"code": code, "name": f"武汉重工 𠮷 {code}",
                                                   "credit_limit": credit_limit, "address": "武汉市汉阳区"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def sales_order(server, site: str, customer_id: str, lines: list[tuple[str, str, str]], *, number: str,
                confirm: bool = True) -> dict:
    answer = server.post("/api/v1/sales-orders", json={
        "site_id": site, "number": number, "customer_id": customer_id,
        "lines": [{"item_id": item, "quantity": quantity, "unit_price": price} for item, quantity, price in lines]})
    assert answer.status_code == 201, answer.text
    order = answer.json()
    if confirm:
        confirmed = server.post(f"/api/v1/sales-orders/{order['id']}/confirm")
        assert confirmed.status_code == 200, confirmed.text
        order = confirmed.json()
    return order


def deliver_on(tablet, world, order: dict, quantity: str, *, line: int = 0) -> int:
    return tablet.run("sales.deliver", DeliverSalesOrder(
        delivery_id=new_id(), move_id=new_id(), order_line_id=order["lines"][line]["id"], location_id=world.location,
        quantity=Decimal(quantity), occurred_at=now()))


def order_at_hq(server, order: dict) -> dict:
    answer = server.get(f"/api/v1/sales-orders/{order['id']}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def availability(server, site: str, item: str) -> tuple[Decimal, Decimal, Decimal]:
    answer = server.get("/api/v1/sales/availability", params={"site_id": site, "item_id": item})
    assert answer.status_code == 200, answer.text
    [row] = answer.json()
    return Decimal(row["on_hand"]), Decimal(row["reserved"]), Decimal(row["available"])


def stocked_dock(make_edge, world, quantity: str):
    """The dock's tablet (a warehouse clerk's), with ``quantity`` received at A-01 and synced."""
    dock = make_edge("dock", role="warehouse_clerk")
    receive(dock, world, quantity)
    dock.sync_once()
    return dock


def test_an_order_reserves_stock_and_the_dock_delivers_it_offline_in_two_parts(server, world, make_edge):
    dock = stocked_dock(make_edge, world, "100")
    order = sales_order(server, world.site, customer(server), [(world.item, "80", "12.50")], number="SO-2026-0001")
    assert order["status"] == "confirmed" and Decimal(order["lines"][0]["reserved_quantity"]) == 80
    assert availability(server, world.site, world.item) == (100, 80, 20)
    [reservation] = server.get("/api/v1/sales/reservations").json()
    assert reservation["order_number"] == "SO-2026-0001" and Decimal(reservation["quantity"]) == 80

    # The first truck is loaded while the dock's Wi-Fi is down.
    dock.sync_once()
    dock.transport.online = False
    deliver_on(dock, world, order, "50")
    with pytest.raises(Unreachable):
        dock.sync_once()
    with dock.engine.begin() as conn:  # the tablet already shows what it did
        assert conn.exec_driver_sql("SELECT status FROM sales_orders").scalar() == "partially_delivered"
        assert Decimal(conn.exec_driver_sql("SELECT quantity FROM stock_reservations").scalar()) == 30
    dock.transport.online = True
    dock.sync_once()
    seen = order_at_hq(server, order)
    assert seen["status"] == "partially_delivered"
    line = seen["lines"][0]
    assert (Decimal(line["delivered_quantity"]), Decimal(line["backorder_quantity"])) == (50, 30)
    [backorder] = server.get("/api/v1/sales/backorders").json()
    assert Decimal(backorder["backorder"]) == 30 and Decimal(backorder["value"]) == Decimal("375.00")
    assert availability(server, world.site, world.item) == (50, 30, 20)

    # The rest goes out on the second truck, offline again.
    dock.transport.online = False
    deliver_on(dock, world, order, "30")
    dock.transport.online = True
    report = dock.sync_once()
    assert report.rejected == 0 and report.pending == 0
    seen = order_at_hq(server, order)
    assert seen["status"] == "delivered" and Decimal(seen["lines"][0]["reserved_quantity"]) == 0
    assert [Decimal(d["quantity"]) for d in seen["deliveries"]] == [50, 30]
    assert {d["device_id"] for d in seen["deliveries"]} == {dock.identity.device_id}
    assert server.get("/api/v1/sales/backorders").json() == []
    assert server.get("/api/v1/sales/reservations").json() == []
    [released] = server.get("/api/v1/sales/reservations", params={"open": "false"}).json()
    assert released["status"] == "released" and released["released_reason"] == "delivered"
    assert availability(server, world.site, world.item) == (20, 0, 20)
    assert {m["kind"] for m in server.get("/api/v1/movements").json()["items"]} == {"receipt", "issue"}
    assert server.get("/api/v1/sales-exceptions").json() == []

    closed = server.post(f"/api/v1/sales-orders/{order['id']}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert server.get("/api/v1/sales-orders", params={"open": "true"}).json() == []


def test_hq_cancels_an_order_while_the_dock_delivers_it_offline(server, world, make_edge):
    dock = stocked_dock(make_edge, world, "50")
    order = sales_order(server, world.site, customer(server), [(world.item, "40", "9.90")], number="SO-2026-0002")
    dock.sync_once()

    # The dock's Wi-Fi drops; the goods are picked and leave on the customer's truck.
    dock.transport.online = False
    deliver_on(dock, world, order, "40")
    with pytest.raises(Unreachable):
        dock.sync_once()
    # Meanwhile sales cancels the order at HQ (the customer phoned to call it off).
    cancelled = server.post(f"/api/v1/sales-orders/{order['id']}/cancel", json={"reason": "客户来电取消"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert availability(server, world.site, world.item) == (50, 0, 50)  # the reservation is released

    # The goods are gone: the delivery is recorded, the order stays cancelled, the reservation
    # stays released, and sales gets an exception to sort it out with the customer.
    dock.transport.online = True
    report = dock.sync_once()
    assert report.rejected == 0 and report.pending == 0
    seen = order_at_hq(server, order)
    assert seen["status"] == "cancelled" and Decimal(seen["lines"][0]["delivered_quantity"]) == 40
    assert availability(server, world.site, world.item) == (10, 0, 10)
    [released] = server.get("/api/v1/sales/reservations", params={"open": "false"}).json()
    assert released["released_reason"] == "cancelled" and Decimal(released["quantity"]) == 0
    [exception] = server.get("/api/v1/sales-exceptions", params={"status": "open"}).json()
    assert exception["kind"] == "delivery_on_cancelled_order" and Decimal(exception["quantity"]) == 40
    assert exception["involved"]["device_id"] == dock.identity.device_id
    with dock.engine.begin() as conn:  # the tablet shows the server's state and the exception
        assert conn.exec_driver_sql("SELECT status FROM sales_orders").scalar() == "cancelled"
        assert conn.exec_driver_sql("SELECT kind FROM sales_exceptions").scalar() == "delivery_on_cancelled_order"
    reviewed = server.post(f"/api/v1/sales-exceptions/{exception['id']}/review", json={"note": "已补开新订单"})
    assert reviewed.status_code == 200
    # A cancelled order is not confirmed again.
    again = server.post(f"/api/v1/sales-orders/{order['id']}/confirm")
    assert again.status_code == 422 and again.json()["code"] == "sales.order_cancelled"


def test_confirming_beyond_the_credit_limit_is_rejected_with_a_reason(server, world, make_edge):
    buyer = customer(server, "C-LIMIT", credit_limit="1000")
    sales_order(server, world.other_site, buyer, [(world.item, "80", "10")], number="SO-WH2-1")  # ¥800 open
    second = sales_order(server, world.site, buyer, [(world.item2, "30", "10")], number="SO-WH1-1", confirm=False)

    refused = server.post(f"/api/v1/sales-orders/{second['id']}/confirm")
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "sales.credit_limit_exceeded"
    assert "¥800.00 in open orders" in problem["detail"]
    assert "¥100.00 above the credit limit of ¥1,000.00" in problem["detail"]
    assert (Decimal(problem["details"]["open_value"]), Decimal(problem["details"]["excess"])) == (800, 100)
    assert order_at_hq(server, second)["status"] == "draft"
    credit = server.get(f"/api/v1/customers/{buyer}/credit").json()
    assert (Decimal(credit["open_order_value"]), Decimal(credit["headroom"])) == (800, 200)
    assert server.get("/api/v1/sales/reservations", params={"site_id": world.site}).json() == []

    # The branch manager's PC holds its own site's orders only: offline, the confirmation
    # looks fine there. The server decides with every site's orders, and refuses it with why.
    manager = make_edge("manager")
    manager.transport.online = False
    manager.run("sales.confirm_order", ConfirmSalesOrder(second["id"]))
    with manager.engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT status FROM sales_orders").scalar() == "confirmed"
    manager.transport.online = True
    assert manager.sync_once().rejected == 1
    [entry] = [e for e in manager.inbox() if e.kind == "rejection"]
    assert entry.code == "sales.credit_limit_exceeded" and "credit limit" in entry.message
    with manager.engine.begin() as conn:  # the server's state replaces the optimistic one
        assert conn.exec_driver_sql("SELECT status FROM sales_orders").scalar() == "draft"
        assert conn.exec_driver_sql("SELECT count(*) FROM stock_reservations").scalar() == 0

    # Finance raises the limit; now it goes through.
    fields = server.get(f"/api/v1/customers/{buyer}").json()["field_versions"]
    raised = server.patch(f"/api/v1/customers/{buyer}",
                          json={"credit_limit": {"value": "2000", "base_version": fields["credit_limit"]}})
    assert raised.status_code == 200 and raised.json()["conflicts"] == []
    confirmed = server.post(f"/api/v1/sales-orders/{second['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"


def test_a_branch_opens_a_service_ticket_offline_and_records_a_visit(server, world, make_edge):
    dock = stocked_dock(make_edge, world, "5")
    buyer = customer(server, "C-SVC")
    contact = server.post(f"/api/v1/customers/{buyer}/contacts",
                          json={"name": "李工", "title": "设备科", "phone": "+86 138-0000-0000"}).json()
    order = sales_order(server, world.site, buyer, [(world.item, "1", "5800")], number="SO-PUMP-1")
    dock.sync_once()
    deliver_on(dock, world, order, "1")
    dock.sync_once()
    delivered_on = business_date(datetime.fromisoformat(order_at_hq(server, order)["deliveries"][0]["occurred_at"]))

    # The branch service office's PC is offline when the customer calls about the pump.
    office = make_edge("service-office", role="sales_clerk")
    office.transport.online = False
    ticket_id = new_id()
    office.run("service.open_ticket", OpenTicket(
        ticket_id=ticket_id, site_id=world.site, customer_id=buyer, complaint="水泵异响，压力不足", opened_at=now(),
        contact_id=contact["id"], item_id=world.item, serial_no="PX-0042", sales_order_id=order["id"]))
    office.run("service.assign_ticket", AssignTicket(ticket_id, "王师傅"))
    office.run("service.record_visit", RecordVisit(new_id(), ticket_id, now(), "王师傅", "更换密封圈，试机正常"))
    with office.engine.begin() as conn:
        status, under_warranty = conn.exec_driver_sql(
            "SELECT status, under_warranty FROM service_tickets").one()
        assert status == "visited" and under_warranty
    with pytest.raises(Unreachable):
        office.sync_once()

    # Back online: HQ sees the ticket, the warranty judged by the server, and the visit.
    office.transport.online = True
    report = office.sync_once()
    assert report.rejected == 0 and report.pending == 0
    ticket = server.get(f"/api/v1/service-tickets/{ticket_id}").json()
    assert ticket["status"] == "visited" and ticket["assigned_to"] == "王师傅"
    assert ticket["under_warranty"] is True
    assert ticket["warranty_until"] == warranty_until(delivered_on, 12).isoformat()
    [visit] = ticket["visits"]
    assert visit["technician"] == "王师傅" and visit["device_id"] == office.identity.device_id
    assert [t["id"] for t in server.get("/api/v1/service-tickets", params={"status": "visited"}).json()] == [ticket_id]

    # HQ resolves and closes it; the office sees that after its next sync.
    resolved = server.post(f"/api/v1/service-tickets/{ticket_id}/resolve", json={"resolution": "密封圈老化，已更换"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert server.post(f"/api/v1/service-tickets/{ticket_id}/close").json()["status"] == "closed"
    late = server.post(f"/api/v1/service-tickets/{ticket_id}/resolve", json={"resolution": "again"})
    assert late.status_code == 422 and late.json()["code"] == "service.ticket_closed"
    office.sync_once()
    with office.engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT status FROM service_tickets").scalar() == "closed"


def test_a_quotation_becomes_an_order_and_an_expired_one_cannot_be_accepted(server, world):
    buyer = customer(server, "C-QUOTE")
    today = business_date(now())
    quotation = server.post("/api/v1/quotations", json={
        "site_id": world.site, "number": "QT-2026-0001", "customer_id": buyer,
        "valid_until": (today + timedelta(days=30)).isoformat(),
        "lines": [{"item_id": world.item, "quantity": "200", "unit_price": "3.20"},
                  {"item_id": world.item2, "quantity": "500", "unit_price": "0.15"}]})
    assert quotation.status_code == 201, quotation.text
    quotation = quotation.json()
    assert Decimal(quotation["total"]) == Decimal("715.00")
    early = server.post(f"/api/v1/quotations/{quotation['id']}/accept", json={})
    assert early.status_code == 422 and early.json()["code"] == "sales.transition_forbidden"  # not sent yet
    assert server.post(f"/api/v1/quotations/{quotation['id']}/send").json()["status"] == "sent"
    assert server.post(f"/api/v1/quotations/{quotation['id']}/accept", json={}).json()["status"] == "accepted"

    converted = server.post(f"/api/v1/quotations/{quotation['id']}/convert", json={"number": "SO-2026-0100"})
    assert converted.status_code == 201, converted.text
    order = converted.json()
    assert order["status"] == "draft" and order["quotation_id"] == quotation["id"]
    assert [(line["item_id"], Decimal(line["quantity"]), Decimal(line["unit_price"])) for line in order["lines"]] == [
        (world.item, 200, Decimal("3.20")), (world.item2, 500, Decimal("0.15"))]
    assert server.get(f"/api/v1/quotations/{quotation['id']}").json()["sales_order_id"] == order["id"]
    twice = server.post(f"/api/v1/quotations/{quotation['id']}/convert", json={"number": "SO-2026-0101"})
    assert twice.status_code == 422 and twice.json()["code"] == "sales.quotation_converted"
    assert server.post(f"/api/v1/sales-orders/{order['id']}/confirm").json()["status"] == "confirmed"

    # A quotation valid until yesterday: the customer's late "yes" is refused, then it expires.
    stale = server.post("/api/v1/quotations", json={
        "site_id": world.site, "number": "QT-2026-0002", "customer_id": buyer,
        "valid_until": (today - timedelta(days=1)).isoformat(),
        "lines": [{"item_id": world.item, "quantity": "1", "unit_price": "3"}]}).json()
    server.post(f"/api/v1/quotations/{stale['id']}/send")
    late = server.post(f"/api/v1/quotations/{stale['id']}/accept", json={})
    assert late.status_code == 422 and late.json()["code"] == "sales.quotation_expired"
    assert server.post(f"/api/v1/quotations/{stale['id']}/expire", json={}).json()["status"] == "expired"
    not_accepted = server.post(f"/api/v1/quotations/{stale['id']}/convert", json={"number": "SO-X"})
    assert not_accepted.status_code == 422 and not_accepted.json()["code"] == "sales.quotation_not_accepted"


def test_sales_by_customer_and_by_item_over_a_date_range(server, world, make_edge):
    dock = stocked_dock(make_edge, world, "1000")
    receive(dock, world, "1000", item=world.item2)
    dock.sync_once()
    east, west = customer(server, "C-EAST"), customer(server, "C-WEST")
    first = sales_order(server, world.site, east, [(world.item, "100", "2.50"), (world.item2, "40", "10")],
                        number="SO-E-1")
    second = sales_order(server, world.site, west, [(world.item, "10", "3")], number="SO-W-1")
    march = datetime(2026, 3, 10, 2, tzinfo=timezone.utc)
    april = datetime(2026, 4, 2, 2, tzinfo=timezone.utc)
    for order, index, quantity, when in ((first, 0, "100", march), (first, 1, "40", april), (second, 0, "10", march)):
        posted = server.post(f"/api/v1/sales-orders/{order['id']}/deliveries", json={
            "order_line_id": order["lines"][index]["id"], "location_id": world.location, "quantity": quantity,
            "occurred_at": when.isoformat()})
        assert posted.status_code == 201, posted.text
    # Ten of east's bolts come back in April.
    returned = server.post(f"/api/v1/sales-orders/{first['id']}/returns", json={
        "order_line_id": first["lines"][0]["id"], "location_id": world.location, "quantity": "10",
        "occurred_at": april.isoformat()})
    assert returned.status_code == 201 and Decimal(returned.json()["lines"][0]["returned_quantity"]) == 10

    whole = server.get("/api/v1/sales/by-customer").json()
    assert [(row["code"], Decimal(row["delivered_value"]), Decimal(row["returned_value"]), Decimal(row["net_value"]))
            for row in whole] == [("C-EAST", Decimal("650.00"), Decimal("25.00"), Decimal("625.00")),
                                  ("C-WEST", Decimal(30), Decimal(0), Decimal(30))]
    in_march = server.get("/api/v1/sales/by-customer", params={"since": "2026-03-01T00:00:00+08:00",
                                                               "until": "2026-04-01T00:00:00+08:00"}).json()
    assert [(row["code"], Decimal(row["net_value"])) for row in in_march] == [("C-EAST", 250), ("C-WEST", 30)]
    by_item = {row["sku"]: row for row in server.get("/api/v1/sales/by-item").json()}
    assert (Decimal(by_item["SKU-1"]["delivered_quantity"]), Decimal(by_item["SKU-1"]["returned_quantity"]),
            Decimal(by_item["SKU-1"]["net_quantity"]), Decimal(by_item["SKU-1"]["net_value"])) == (110, 10, 100, 255)
    assert Decimal(by_item["SKU-2"]["net_value"]) == 400
    in_april = server.get("/api/v1/sales/by-item", params={"since": "2026-04-01T00:00:00+08:00"}).json()
    assert {row["sku"]: Decimal(row["net_value"]) for row in in_april} == {"SKU-1": Decimal("-25.00"), "SKU-2": 400}


def test_over_delivery_is_flagged_and_a_customer_return_is_written_back(server, world, make_edge):
    dock = stocked_dock(make_edge, world, "30")
    order = sales_order(server, world.site, customer(server), [(world.item, "20", "4")], number="SO-OVER")
    dock.sync_once()
    deliver_on(dock, world, order, "20")
    deliver_on(dock, world, order, "5")  # the picker loaded five more than ordered
    dock.sync_once()
    [exception] = server.get("/api/v1/sales-exceptions").json()
    assert exception["kind"] == "over_delivery" and Decimal(exception["quantity"]) == 5
    # The five come back; a return does not reopen the order.
    dock.run("sales.return_from_customer", ReturnFromCustomer(
        return_id=new_id(), move_id=new_id(), order_line_id=order["lines"][0]["id"], location_id=world.location,
        quantity=Decimal(5), occurred_at=now()))
    dock.sync_once()
    seen = order_at_hq(server, order)
    assert seen["status"] == "delivered"
    assert (Decimal(seen["lines"][0]["delivered_quantity"]), Decimal(seen["lines"][0]["returned_quantity"])) == (25, 5)
    assert availability(server, world.site, world.item) == (10, 0, 10)


def test_the_dock_tablet_holds_contacts_without_their_phone_numbers(server, world, make_edge):
    buyer = customer(server, "C-PII")
    server.post(f"/api/v1/customers/{buyer}/contacts",
                json={"name": "张经理", "phone": "027-8888 6666", "email": "zhang@example.com"})
    dock = make_edge("dock", role="warehouse_clerk")  # sales.view, but not sales.view_contact_details
    office = make_edge("office", role="sales_clerk")  # sales.*
    with dock.engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT name, phone, email FROM customer_contacts").one() == ("张经理", None, None)
    with office.engine.begin() as conn:  # stored encrypted on the device
        phone = conn.exec_driver_sql("SELECT phone FROM customer_contacts").scalar()
        assert phone.startswith("enc1:") and "8888" not in phone
    for tablet in (dock, office):  # each holds exactly what its role receives
        report = tablet.verify()
        assert report.comparable and report.matches, report.differing
    bad = server.post(f"/api/v1/customers/{buyer}/contacts", json={"name": "x", "phone": "call me"})
    assert bad.status_code == 422 and bad.json()["code"] == "sales.invalid_phone" and "call me" not in bad.text
