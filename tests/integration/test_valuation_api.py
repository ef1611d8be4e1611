"""The stock valuation report over HQ's API: receipts against purchase orders value stock at the
order price, a return to the supplier takes stock out at the average, items of each method are
reported with site totals, a site-bound user sees their own site only, and a bad month is refused
as a problem detail. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from decimal import Decimal

from litestar.testing import TestClient

from tests.support import World, sign_in

D = Decimal
_numbers = itertools.count(1)


def _post(client: TestClient, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _receive(server: TestClient, world: World, site: str, location: str, item: str, quantity: str, price: str) -> dict:
    number = next(_numbers)
    supplier = _post(server, "/api/v1/suppliers", {"code": f"S-{number}", "name": "武汉钢铁 𠮷"})
    order = _post(server, "/api/v1/purchase-orders", {
        "site_id": site, "number": f"PO-{number}", "supplier_id": supplier["id"],
        "lines": [{"item_id": item, "quantity": quantity, "unit_price": price}]})
    assert server.post(f"/api/v1/purchase-orders/{order['id']}/approve").status_code == 200
    line = order["lines"][0]["id"]
    received = server.post(f"/api/v1/purchase-orders/{order['id']}/receipts",
                           json={"po_line_id": line, "location_id": location, "quantity": quantity})
    assert received.status_code == 201, received.text
    return {"order": order["id"], "line": line}


def test_the_valuation_report_values_receipts_at_the_order_price(server: TestClient, world: World) -> None:
    fifo_item = _post(server, "/api/v1/items", {"sku": "SKU-FIFO", "name": "先进先出 𠮷", "unit_code": "PCS",
                                                "valuation_method": "fifo"})["id"]
    month_item = _post(server, "/api/v1/items", {"sku": "SKU-MONTH", "name": "月末加权 𠮷", "unit_code": "PCS",
                                                 "valuation_method": "monthly_weighted"})["id"]
    for item in (world.item, fifo_item, month_item):
        _receive(server, world, world.site, world.location, item, "10", "2")
    for item in (world.item, fifo_item, month_item):
        second = _receive(server, world, world.site, world.location, item, "10", "4")
    _receive(server, world, world.other_site, world.other_location, world.item, "1", "99.5")
    returned = server.post(f"/api/v1/purchase-orders/{second['order']}/returns",
                           json={"po_line_id": second["line"], "location_id": world.location, "quantity": "5"})
    assert returned.status_code == 201, returned.text

    report = server.get("/api/v1/inventory/valuation").json()
    assert report["as_of"] == "now"
    lines = {(line["site_id"], line["sku"]): line for line in report["items"]}
    average = lines[(world.site, "SKU-1")]
    assert (D(average["quantity"]), D(average["value"]), D(average["unit_cost"])) == (D(20), D(60), D(3))
    assert average["method"] == "moving_average" and average["name"] == "螺栓 𠮷"
    fifo = lines[(world.site, "SKU-FIFO")]
    assert (D(fifo["quantity"]), D(fifo["value"])) == (D(20), D(60))
    # The monthly item's return is an outgoing of the month: 15 left at the month's rate of 3.
    monthly = lines[(world.site, "SKU-MONTH")]
    assert (D(monthly["quantity"]), D(monthly["value"]), D(monthly["unit_cost"])) == (D(15), D(45), D(3))
    assert monthly["rate_status"] == "provisional"
    this_month = datetime.now(timezone.utc).strftime("%Y-%m")
    assert monthly["month"] == this_month
    totals = {site["site_id"]: D(site["value"]) for site in report["sites"]}
    assert totals == {world.site: D(165), world.other_site: D("99.5")}
    assert D(report["total_value"]) == D("264.5")

    as_of_month = server.get("/api/v1/inventory/valuation", params={"month": this_month}).json()
    assert [(line["sku"], D(line["value"])) for line in as_of_month["items"]] == [("SKU-MONTH", D(45))]
    assert server.get("/api/v1/inventory/valuation", params={"month": "2001-01"}).json()["items"] == []

    bad = server.get("/api/v1/inventory/valuation", params={"month": "2026-13"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")

    server.post("/api/v1/admin/users", json={"username": "武昌会计", "display_name": "武昌会计 𠮷", "password": "口令-𠮷-2026-会计",
                                             "roles": ["branch_manager"], "site_id": world.other_site})
    admin = server.headers["authorization"]
    sign_in(server, "武昌会计", "口令-𠮷-2026-会计")  # the same client, now as the site-bound user
    try:
        own = server.get("/api/v1/inventory/valuation").json()
        assert [(line["site_id"], line["sku"]) for line in own["items"]] == [(world.other_site, "SKU-1")]
        refused = server.get("/api/v1/inventory/valuation", params={"site_id": world.site})
        assert refused.status_code == 403 and refused.json()["code"] == "auth.out_of_site"
    finally:
        server.headers["authorization"] = admin
