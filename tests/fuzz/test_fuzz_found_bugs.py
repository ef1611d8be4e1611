"""Regression tests for failures the HTTP fuzzing found, one test per failure.

Each test is an ordinary fuzz check (status below 500, errors as problem details, refused
requests change nothing) on the exact input that once broke the server: bodies nested
thousands deep, malformed bootstrap resume keys, creates with a taken id, times that leave
years 1..9999 in UTC, and movement filters out of range.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from protocol import PROTOCOL_VERSION
from sync.schema import SCHEMA_VERSION

DEPTH = 5000


def deep_json(depth: int = DEPTH) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


def sync_body(env: Any, endpoint: str) -> dict[str, Any]:
    base = {"protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION, "device_id": env.device_id}
    return {
        "push": {"type": "push", **base, "mutations": []},
        "pull": {"type": "pull", **base, "site_id": env.world.site, "cursor": 0},
        "bootstrap": {"type": "bootstrap", **base},
        "enroll": {"type": "enroll", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
                   "site_id": env.world.site, "device_name": "x"},
    }[endpoint]


def with_deep_field(body: dict[str, Any]) -> bytes:
    """The body as JSON with an unknown member nested DEPTH levels deep (ignored by the schema)."""
    return json.dumps({**body, "extra": "@DEEP@"}).encode().replace(b'"@DEEP@"', deep_json())


@pytest.mark.parametrize("endpoint", ["enroll", "push", "pull", "bootstrap"])
def test_deeply_nested_sync_body(fuzz_env: Any, endpoint: str) -> None:
    fuzz_env.request("POST", f"/sync/v1/{endpoint}", content=with_deep_field(sync_body(fuzz_env, endpoint)),
                     headers={"content-type": "application/json", **fuzz_env.auth})


def test_deeply_nested_msgpack_push(fuzz_env: Any) -> None:
    # A valid empty push plus an unknown member whose value is DEPTH one-element arrays deep.
    marker = "@DEEP@"
    body = msgspec.msgpack.encode({**sync_body(fuzz_env, "push"), "extra": marker})
    body = body.replace(msgspec.msgpack.encode(marker), b"\x91" * DEPTH + b"\x01")
    fuzz_env.request("POST", "/sync/v1/push", content=body,
                     headers={"content-type": "application/msgpack", **fuzz_env.auth})


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/v1/items"), ("POST", "/api/v1/units"), ("POST", "/api/v1/sites"), ("POST", "/api/v1/warehouses"),
    ("POST", "/api/v1/locations"), ("PATCH", "/api/v1/items/x"), ("POST", "/api/v1/inventory-exceptions/x/review"),
])
def test_deeply_nested_hq_body(fuzz_env: Any, method: str, path: str) -> None:
    fuzz_env.request(method, path, content=b'{"x": ' + deep_json() + b"}", headers={"content-type": "application/json"})


@pytest.mark.parametrize("after_key", [[], [{"a": 1}], [[1]], [2**63]], ids=["empty", "map", "list", "huge-int"])
def test_bootstrap_resume_with_malformed_after_key(fuzz_env: Any, after_key: list[Any]) -> None:
    body = {**sync_body(fuzz_env, "bootstrap"),
            "resume": {"snapshot_version": 1, "table_index": 0, "after_key": after_key}}
    fuzz_env.request("POST", "/sync/v1/bootstrap", content=json.dumps(body).encode(),
                     headers={"content-type": "application/json", **fuzz_env.auth})


def hq_body(env: Any, path: str, taken_id: str) -> dict[str, Any]:
    world = env.world
    return {
        "/api/v1/sites": {"id": taken_id, "code": "NEW-SITE", "name": "新", "kind": "branch"},
        "/api/v1/items": {"id": taken_id, "sku": "NEW-SKU", "name": "新", "unit_code": world.unit},
        "/api/v1/warehouses": {"id": taken_id, "site_id": world.site, "code": "NEW-W", "name": "新"},
        "/api/v1/locations": {"id": taken_id, "warehouse_id": world.warehouse, "code": "NEW-L", "name": "新"},
    }[path]


@pytest.mark.parametrize("path, taken", [("/api/v1/sites", "site"), ("/api/v1/items", "item"),
                                         ("/api/v1/warehouses", "warehouse"), ("/api/v1/locations", "location")])
def test_hq_create_with_an_existing_id(fuzz_env: Any, path: str, taken: str) -> None:
    body = hq_body(fuzz_env, path, getattr(fuzz_env.world, taken))
    fuzz_env.request("POST", path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


def push_one(env: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
    seq = env.last_applied_seq() + 1
    body = {**sync_body(env, "push"), "mutations": [{"seq": seq, "name": name, "version": 1, "hlc": "h",
                                                     "args": args}]}
    response = env.request("POST", "/sync/v1/push", content=json.dumps(body).encode(),
                           headers={"content-type": "application/json", **env.auth})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_push_timestamp_out_of_range_after_utc_conversion(fuzz_env: Any, occurred_at: str) -> None:
    world = fuzz_env.world
    args = {"move_id": "01a20b40-0000-7000-8000-00000000f001", "item_id": world.item,
            "location_id": world.location, "quantity": "1", "occurred_at": occurred_at}
    body = {**sync_body(fuzz_env, "push"), "mutations": [
        {"seq": fuzz_env.last_applied_seq() + 1, "name": "inventory.receive", "version": 1, "hlc": "h", "args": args}]}
    response = fuzz_env.request("POST", "/sync/v1/push", content=json.dumps(body).encode(),
                                headers={"content-type": "application/json", **fuzz_env.auth})
    assert response.status_code == 422 and response.json()["code"] == "sync.invalid_arguments", response.text
    assert "outside years 1..9999" in response.json()["detail"]


def test_push_create_location_with_an_existing_id(fuzz_env: Any) -> None:
    world = fuzz_env.world
    result = push_one(fuzz_env, "inventory.create_location", {
        "location_id": world.location, "warehouse_id": world.warehouse, "code": "NEW-L2", "name": "新"})
    assert result.get("code") != "sync.handler_failed", result


@pytest.mark.parametrize("params", [{"since": "0001-01-01T00:00:00+14:00"}, {"until": "9999-12-31T23:59:59-12:00"}],
                         ids=["since", "until"])
def test_movements_filter_out_of_range_after_utc_conversion(fuzz_env: Any, params: dict[str, str]) -> None:
    fuzz_env.request("GET", "/api/v1/movements", params=params)
