"""The HQ REST API: OpenAPI at /schema, filters and keyset pagination, rare characters."""

from __future__ import annotations

from decimal import Decimal

from tests.support import all_movements, issue, receive


def test_openapi_documents_every_hq_and_sync_route(server):
    schema = server.get("/schema/openapi.json").json()
    paths = set(schema["paths"])
    routes = {route.path.replace(":str", "") for route in server.app.routes
              if route.path.startswith(("/api/v1", "/sync/v1"))}
    assert routes and routes <= paths
    assert schema["info"]["title"] == "Jiangcheng ERP"


def test_movements_filter_and_page_through_the_ledger(server, world, make_edge):
    edge = make_edge("a")
    for _ in range(7):
        receive(edge, world, "1")
    issue(edge, world, "2", location=world.location)
    receive(edge, world, "4", location=world.location2)
    edge.sync_once()

    seen = all_movements(server, page_size=3)
    assert len(seen) == 9 and len({m["id"] for m in seen}) == 9
    assert [m["id"] for m in seen] == sorted(m["id"] for m in seen)

    issues = server.get("/api/v1/movements", params={"kind": "issue"}).json()["items"]
    assert [Decimal(m["quantity"]) for m in issues] == [Decimal(-2)]
    at_second = server.get("/api/v1/movements", params={"location_id": world.location2}).json()["items"]
    assert [Decimal(m["quantity"]) for m in at_second] == [Decimal(4)]
    first_time = seen[0]["occurred_at"]
    later = server.get("/api/v1/movements", params={"since": first_time}).json()["items"]
    assert len(later) == 9
    none = server.get("/api/v1/movements", params={"until": first_time}).json()["items"]
    assert none == []

    by_site = server.get("/api/v1/on-hand", params={"site_id": world.site}).json()
    assert {(r["location_id"], Decimal(r["quantity"])) for r in by_site} == {
        (world.location, Decimal(5)), (world.location2, Decimal(4))}
    assert server.get("/api/v1/on-hand", params={"site_id": world.other_site}).json() == []


def test_rare_characters_survive_the_api_and_the_replica(server, world, make_edge):
    name = "𠀋𡈽𤭢 龘 — 汉阳"
    created = server.post("/api/v1/items", json={"sku": "RARE-𠮷", "name": name, "unit_code": "PCS"})
    assert created.status_code == 201
    edge = make_edge("a")
    assert server.get(f"/api/v1/items/{created.json()['id']}").json()["name"] == name
    with edge.engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT name FROM items WHERE sku = ?", ("RARE-𠮷",)).scalar() == name
    assert name.encode("gb18030").decode("gb18030") == name
    found = server.get("/api/v1/items", params={"q": "𡈽"}).json()
    assert [item["sku"] for item in found] == ["RARE-𠮷"]
