"""Property-based fuzzing of the HQ API write endpoints (``/api/v1``): items, units, sites,
warehouses, locations, item and warehouse edits, exception reviews.

Bodies are random JSON documents, or valid bodies with fields replaced by random values
(wrong types, huge or rare Unicode strings, references to unknown or real rows, duplicates of
existing codes), sent with random ``Content-Type`` headers. Every answer must be below 500,
every error a problem detail with a ``code``, and every refused write must leave the server's
state unchanged (see conftest). Accepted writes change state, which later examples then build on.

Left out, because it fails today and ``test_fuzz_found_bugs.py`` reproduces it: a create whose
``id`` is the id of an existing row of the same table.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, assume, given, settings, strategies as st

FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

TEXT = st.text(max_size=30) | st.sampled_from(
    ["", " ", "\x00", "𠀋𠮷🚚", "\u202e\ufeff", "A" * 20_000, "SKU-1", "PCS", "W1", "A-01", "WH1", "allow", "flag",
     "reject", "warehouse", "factory", "branch", "00000000-0000-0000-0000-000000000000"])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=10)
EDIT = st.fixed_dictionaries({"value": VALUES, "base_version": st.integers(-1, 2**64) | VALUES})

FIELDS = {
    "/api/v1/items": ["sku", "name", "unit_code", "barcode", "id"],
    "/api/v1/units": ["code", "name"],
    "/api/v1/sites/": ["code", "name", "kind", "id"],
    "/api/v1/warehouses": ["site_id", "code", "name", "negative_stock_policy", "id"],
    "/api/v1/locations": ["warehouse_id", "code", "name", "id"],
}


def templates(world: Any, n: int) -> dict[str, dict[str, Any]]:
    return {
        "/api/v1/items": {"sku": f"FZ-{n}", "name": "螺母", "unit_code": world.unit, "barcode": None},
        "/api/v1/units": {"code": f"U{n}", "name": "箱"},
        "/api/v1/sites/": {"code": f"S{n}", "name": "仓", "kind": "warehouse"},
        "/api/v1/warehouses": {"site_id": world.site, "code": f"FW{n}", "name": "库",
                               "negative_stock_policy": "reject"},
        "/api/v1/locations": {"warehouse_id": world.warehouse, "code": f"FL{n}", "name": "位"},
    }


CREATED: dict[str, set[Any]] = {path: set() for path in FIELDS}


def taken_ids(world: Any, path: str) -> set[Any]:
    """Ids of existing rows of the table ``path`` creates (see the module docstring)."""
    existing = {"/api/v1/items": {world.item, world.item2}, "/api/v1/units": set(),
                "/api/v1/sites/": {world.site, world.other_site}, "/api/v1/warehouses": {world.warehouse},
                "/api/v1/locations": {world.location, world.location2, world.other_location}}[path]
    return existing | CREATED[path]


def create(env: Any, path: str, body: Any, content_type: str = "application/json") -> None:
    if isinstance(body, dict):
        try:
            assume(body.get("id") not in taken_ids(env.world, path))
        except TypeError:  # an unhashable id cannot name a row
            pass
    response = env.request("POST", path, content=body_of(body), headers={"content-type": content_type})
    if response.status_code == 201:
        CREATED[path].add(response.json().get("id"))


def references(world: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([world.site, world.other_site, world.item2, world.location2, world.other_location, world.other_site, world.item, world.item2, world.warehouse, world.location,
                            world.unit, "SKU-1", "W1", "A-01"])


CONTENT_TYPES = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain",
                                 "application/msgpack", "application/x-www-form-urlencoded", ""])


def body_of(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


@FUZZ
@given(path=st.sampled_from(sorted(FIELDS)), value=VALUES, content_type=CONTENT_TYPES)
def test_random_json_bodies(fuzz_env: Any, path: str, value: Any, content_type: str) -> None:
    create(fuzz_env, path, value, content_type)


@FUZZ
@given(path=st.sampled_from(sorted(FIELDS)), data=st.data(), n=st.integers(0, 5))
def test_corrupted_create_bodies(fuzz_env: Any, path: str, data: st.DataObject, n: int) -> None:
    body = templates(fuzz_env.world, n)[path]
    for _ in range(data.draw(st.integers(0, 3))):
        field = data.draw(st.sampled_from(FIELDS[path] + ["unknown"]))
        choice = data.draw(st.sampled_from(["delete", "value", "reference"]))
        if choice == "delete":
            body.pop(field, None)
        elif choice == "value":
            body[field] = data.draw(VALUES)
        else:
            body[field] = data.draw(references(fuzz_env.world))
    create(fuzz_env, path, body)


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["items", "warehouses"]))
def test_random_edits(fuzz_env: Any, data: st.DataObject, kind: str) -> None:
    world = fuzz_env.world
    target = data.draw(st.sampled_from([world.item, world.item2, world.warehouse, world.location, "nope", "", "𠀋"])
                       if kind == "items" else st.sampled_from([world.warehouse, world.item, "nope", "𠀋"]))
    fields = ["name", "barcode", "active", "sku", "unknown"] if kind == "items" else [
        "name", "negative_stock_policy", "code", "unknown"]
    typed_edits = st.fixed_dictionaries({}, optional={
        "name": st.fixed_dictionaries({"value": TEXT, "base_version": st.integers(-1, 50) | st.just(2**63)}),
        "barcode": st.fixed_dictionaries({"value": st.none() | TEXT, "base_version": st.integers(-1, 50)}),
        "active": st.fixed_dictionaries({"value": st.booleans(), "base_version": st.integers(-1, 50)}),
        "negative_stock_policy": st.fixed_dictionaries({"value": st.sampled_from(["allow", "flag", "reject", "x"]),
                                                        "base_version": st.integers(-1, 50)}),
    })
    body = data.draw(typed_edits | st.dictionaries(st.sampled_from(fields), EDIT | VALUES, max_size=3) | VALUES)
    fuzz_env.request("PATCH", f"/api/v1/{kind}/{quote(target, safe='')}", content=body_of(body),
                     headers={"content-type": "application/json"})


@FUZZ
@given(target=TEXT.filter(lambda t: t.strip() not in ("", ".", "..")), body=VALUES)
def test_random_reviews(fuzz_env: Any, target: str, body: Any) -> None:
    fuzz_env.request("POST", f"/api/v1/inventory-exceptions/{quote(target, safe='')}/review", content=body_of(body),
                     headers={"content-type": "application/json"})
