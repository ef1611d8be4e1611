"""Regression tests for failures found by fuzzing the HTTP surface on PostgreSQL.

PostgreSQL refuses the character U+0000 in text, text longer than its column, and a key of the
wrong type, where SQLite accepts them all. Each test is the fuzz check of conftest on one input
that once got a 500; now the server refuses it with a problem detail and changes nothing.
They skip without PostgreSQL, like the other PostgreSQL tests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from protocol import PROTOCOL_VERSION
from sync.schema import SCHEMA_VERSION

pytestmark = pytest.mark.postgres

NUL = "\x00"

@pytest.mark.parametrize("path", [
    "/api/v1/items?q=%00", "/api/v1/items?after=%00", "/api/v1/items/a%00b", "/api/v1/movements?item_id=%00",
    "/api/v1/movements?kind=%00", "/api/v1/on-hand?site_id=%00", "/api/v1/warehouses?site_id=%00",
    "/api/v1/locations?warehouse_id=%00", "/api/v1/devices?site_id=%00", "/api/v1/rejections?code=%00",
    "/api/v1/conflicts?status=%00", "/api/v1/inventory-exceptions?status=%00",
])
def test_nul_in_a_query(fuzz_env_pg: Any, path: str) -> None:
    fuzz_env_pg.request("GET", path)


def _hq_bodies(env: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    world = env.world
    return {
        "item-sku": ("/api/v1/items", {"sku": f"N{NUL}", "name": "z", "unit_code": world.unit}),
        "unit-name": ("/api/v1/units", {"code": "NU", "name": NUL}),
        "site-code": ("/api/v1/sites", {"code": f"S{NUL}", "name": "z", "kind": "branch"}),
        "warehouse-name": ("/api/v1/warehouses", {"site_id": world.site, "code": "NW", "name": NUL}),
        "location-name": ("/api/v1/locations", {"warehouse_id": world.warehouse, "code": "NL", "name": NUL}),
        "location-warehouse": ("/api/v1/locations", {"warehouse_id": NUL, "code": "NL2", "name": "z"}),
        "review-id": ("/api/v1/inventory-exceptions/%00/review", {"note": "x"}),
    }


@pytest.mark.parametrize("case", ["item-sku", "unit-name", "site-code", "warehouse-name", "location-name",
                                  "location-warehouse", "review-id"])
def test_nul_in_an_hq_write(fuzz_env_pg: Any, case: str) -> None:
    path, body = _hq_bodies(fuzz_env_pg)[case]
    fuzz_env_pg.request("POST", path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize("field", ["device_name", "site_id"])
def test_nul_in_an_enrollment(fuzz_env_pg: Any, field: str) -> None:
    body = {"type": "enroll", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
            "site_id": fuzz_env_pg.world.site, "device_name": "x"}
    body[field] = body[field] + NUL
    fuzz_env_pg.request("POST", "/sync/v1/enroll", content=json.dumps(body).encode(),
                        headers={"content-type": "application/json"})


def test_nul_in_a_push_envelope(fuzz_env_pg: Any) -> None:
    world = fuzz_env_pg.world
    envelope = {"seq": fuzz_env_pg.last_applied_seq() + 1, "name": "inventory.receive", "version": 1,
                "hlc": f"h{NUL}", "args": {"move_id": "01a20b40-0000-7000-8000-00000000f101", "item_id": world.item,
                                           "location_id": world.location, "quantity": "1",
                                           "occurred_at": "2026-11-24T08:00:00Z"}}
    body = {"type": "push", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
            "device_id": fuzz_env_pg.device_id, "mutations": [envelope]}
    fuzz_env_pg.request("POST", "/sync/v1/push", content=json.dumps(body).encode(),
                        headers={"content-type": "application/json", **fuzz_env_pg.auth})


@pytest.mark.parametrize("after_key", [[5], [NUL]], ids=["integer", "nul"])
def test_bootstrap_resume_with_mistyped_after_key(fuzz_env_pg: Any, after_key: list[Any]) -> None:
    body = {"type": "bootstrap", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
            "device_id": fuzz_env_pg.device_id,
            "resume": {"snapshot_version": 1, "table_index": 0, "after_key": after_key}}
    fuzz_env_pg.request("POST", "/sync/v1/bootstrap", content=json.dumps(body).encode(),
                        headers={"content-type": "application/json", **fuzz_env_pg.auth})


LONG = "A" * 20_000


@pytest.mark.parametrize("case", ["unit-code", "item-sku", "item-name", "item-barcode", "site-code",
                                  "warehouse-code", "location-code", "device-name"])
def test_text_longer_than_its_column(fuzz_env_pg: Any, case: str) -> None:
    world = fuzz_env_pg.world
    path, body = {
        "unit-code": ("/api/v1/units", {"code": LONG, "name": "z"}),
        "item-sku": ("/api/v1/items", {"sku": LONG, "name": "z", "unit_code": world.unit}),
        "item-name": ("/api/v1/items", {"sku": "LONG-NAME", "name": LONG, "unit_code": world.unit}),
        "item-barcode": ("/api/v1/items", {"sku": "LONG-BARCODE", "name": "z", "unit_code": world.unit,
                                           "barcode": LONG}),
        "site-code": ("/api/v1/sites", {"code": LONG, "name": "z", "kind": "branch"}),
        "warehouse-code": ("/api/v1/warehouses", {"site_id": world.site, "code": LONG, "name": "z"}),
        "location-code": ("/api/v1/locations", {"warehouse_id": world.warehouse, "code": LONG, "name": "z"}),
        "device-name": ("/sync/v1/enroll", {"type": "enroll", "protocol_version": PROTOCOL_VERSION,
                                            "schema_version": SCHEMA_VERSION, "site_id": world.site,
                                            "device_name": LONG}),
    }[case]
    fuzz_env_pg.request("POST", path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
