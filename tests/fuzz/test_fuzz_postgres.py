"""Property-based fuzzing of the sync and HQ write endpoints on PostgreSQL.

A shorter run than the SQLite one (``test_fuzz_protocol.py``, ``test_fuzz_hq_api.py``), for
what differs between the databases: type checks of bound values, text rules, numeric and
timestamp ranges, constraint errors. Bodies are valid messages and HQ bodies with fields
replaced by random values; the check is the one of conftest (below 500, problem details, a
refused request changes nothing).

Left out, because they fail today and ``test_fuzz_found_bugs_postgres.py`` reproduces them: the
character U+0000 in any text, text longer than its column, bootstrap ``resume`` keys, and
creates reusing an existing id.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings, strategies as st

from protocol import PROTOCOL_VERSION
from sync.ids import new_id
from sync.schema import SCHEMA_VERSION

pytestmark = pytest.mark.postgres

# No shrinking: on PostgreSQL each example costs a state snapshot of every table.
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

# At most 16 characters: the shortest text column (see the module docstring).
TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=16) | \
    st.sampled_from(["", "𠀋𠮷🚚", "\u202e\ufeff", "A" * 16, "1e400", "NaN", "2026-11-24T08:00"])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**64), max_value=2**64)
           | st.floats(allow_nan=False, allow_infinity=False) | TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=8)
EDGES = {
    "quantity": st.sampled_from(["1", "-1", "0", "1e400", "-1e400", "1E+30", "123456789012345678901234567890",
                                 "0.0000000001", "NaN", "Infinity", 1e308, 2**64 - 1]),
    "occurred_at": st.sampled_from(["2026-11-24T08:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                    "2026-11-24T08:00:00+14:00", "2026-11-24T08:00:00"]),
    "seq": st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, 2**64 - 1]),
    "version": st.sampled_from([0, 2, 2**31, 2**63, 2**64 - 1]),
    "cursor": st.sampled_from([-1, 0, 2**31, 2**63 - 1, 2**63, 2**64 - 1]),
    "limit": st.sampled_from([0, 1, 100_000, 100_001, 2**63]),
    "chunk_rows": st.sampled_from([0, 1, 200_000, 200_001, 2**63]),
}


def push_body(env: Any) -> dict[str, Any]:
    world = env.world
    return {"type": "push", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
            "device_id": env.device_id, "mutations": [{
                "seq": env.last_applied_seq() + 1, "name": "inventory.receive", "version": 1, "hlc": "h",
                "user": None, "args": {"move_id": new_id(), "item_id": world.item, "location_id": world.location,
                                       "quantity": "1", "occurred_at": "2026-11-24T08:00:00Z", "reference": None}}]}


@FUZZ
@given(data=st.data(), encoding=st.sampled_from(["json", "msgpack"]))
def test_corrupted_push_on_postgres(fuzz_env_pg: Any, data: st.DataObject, encoding: str) -> None:
    body = push_body(fuzz_env_pg)
    envelope = body["mutations"][0]
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(["envelope", "args"]))
        fields = envelope["args"] if target == "args" and isinstance(envelope["args"], dict) else envelope
        name = data.draw(st.sampled_from(sorted(fields)))
        fields[name] = data.draw(EDGES.get(name, VALUES) | VALUES | TEXT)
    content = json.dumps(body).encode() if encoding == "json" else msgspec.msgpack.encode(body)
    fuzz_env_pg.request("POST", "/sync/v1/push", content=content,
                        headers={"content-type": f"application/{encoding}", **fuzz_env_pg.auth})


@FUZZ
@given(data=st.data(), endpoint=st.sampled_from(["pull", "bootstrap", "enroll"]))
def test_corrupted_pull_bootstrap_enroll_on_postgres(fuzz_env_pg: Any, data: st.DataObject, endpoint: str) -> None:
    env = fuzz_env_pg
    body: dict[str, Any] = {"type": endpoint, "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION}
    body.update({"pull": {"device_id": env.device_id, "site_id": env.world.site, "cursor": 0, "limit": 20},
                 "bootstrap": {"device_id": env.device_id, "chunk_rows": 5},
                 "enroll": {"site_id": env.world.site, "device_name": "pg"}}[endpoint])
    for _ in range(data.draw(st.integers(1, 2))):
        name = data.draw(st.sampled_from(sorted(body)))
        body[name] = data.draw(EDGES.get(name, VALUES) | VALUES)
    env.request("POST", f"/sync/v1/{endpoint}", content=json.dumps(body).encode(),
                headers={"content-type": "application/json", **env.auth})


@FUZZ
@given(data=st.data(), path=st.sampled_from(["/api/v1/items", "/api/v1/units", "/api/v1/sites",
                                             "/api/v1/warehouses", "/api/v1/locations"]))
def test_corrupted_hq_creates_on_postgres(fuzz_env_pg: Any, data: st.DataObject, path: str) -> None:
    world = fuzz_env_pg.world
    body = {
        "/api/v1/items": {"sku": data.draw(TEXT), "name": "z", "unit_code": world.unit},
        "/api/v1/units": {"code": data.draw(TEXT), "name": "z"},
        "/api/v1/sites": {"code": data.draw(TEXT), "name": "z", "kind": "branch"},
        "/api/v1/warehouses": {"site_id": world.site, "code": data.draw(TEXT), "name": "z"},
        "/api/v1/locations": {"warehouse_id": world.warehouse, "code": data.draw(TEXT), "name": "z"},
    }[path]
    for _ in range(data.draw(st.integers(0, 2))):
        name = data.draw(st.sampled_from(sorted(body)))
        body[name] = data.draw(VALUES | (st.sampled_from([world.site, world.item, world.warehouse, world.location,
                                                          world.unit]) if name.endswith("_id") else TEXT))
    assume("id" not in body)
    fuzz_env_pg.request("POST", path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
