"""Property-based fuzzing of the sync protocol endpoints (enroll, push, pull, bootstrap, live).

Each example sends one request built from: arbitrary bytes; structurally valid MessagePack or
JSON of random shape; a valid message with randomly corrupted fields (wrong types, negative or
huge numbers, unknown mutation names and versions, arguments of the wrong shape, huge strings,
nesting up to 500 levels, NaN/Infinity decimals, naive or out-of-range timestamps, rare Unicode
including 4-byte characters and, in JSON, lone surrogates); and random ``Content-Type`` and
``Authorization`` headers. Every answer must be below 500, every error a problem detail with a
``code``, and every refused request must leave the server's state unchanged (see conftest).

Left out of the random bodies, because they fail today and ``test_fuzz_found_bugs.py``
reproduces them: nesting thousands of levels deep, and bootstrap ``resume.after_key`` values
of the wrong shape (they fail inside the response stream).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from hypothesis import HealthCheck, given, settings, strategies as st

from protocol import PROTOCOL_VERSION
from sync.ids import new_id
from sync.registry import discover
from sync.schema import SCHEMA_VERSION

FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

ENDPOINTS = ("/sync/v1/enroll", "/sync/v1/push", "/sync/v1/pull", "/sync/v1/bootstrap")
TYPES = {"/sync/v1/enroll": "enroll", "/sync/v1/push": "push", "/sync/v1/pull": "pull",
         "/sync/v1/bootstrap": "bootstrap"}

SURROGATE = "\x00LONE-SURROGATE\x00"  # replaced by a JSON escape of a lone surrogate after encoding

RARE_TEXT = st.sampled_from([
    "", " ", "\x00", "𠀋𠮷🚚", "\u202e\u200b\ufeff", "A" * 70_000, "é" * 5000, "\U0010ffff", SURROGATE,
    "1e999999", "-0", "NaN", "Infinity", "-Infinity", "2026-11-24T08:00:00", "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "00000000-0000-0000-0000-000000000000",
])
TEXT = st.text(max_size=40) | RARE_TEXT
INTS = st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.sampled_from(
    [0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, -(2**63)])
SCALARS = (st.none() | st.booleans() | INTS | st.floats(allow_nan=True, allow_infinity=True) | TEXT
           | st.binary(max_size=20))


class Deep:
    """A value nested ``depth`` levels deep; built only in the encoded bytes (short to print)."""

    def __init__(self, depth: int, kind: str) -> None:
        self.depth, self.kind = depth, kind
        self.marker = f"\x00DEEP-{kind}-{depth}\x00"

    def __repr__(self) -> str:
        return f"Deep({self.depth}, {self.kind!r})"

    def json(self) -> bytes:
        if self.kind == "list":
            return b"[" * self.depth + b'"x"' + b"]" * self.depth
        return b'{"a":' * self.depth + b'"x"' + b"}" * self.depth

    def msgpack(self) -> bytes:
        step = b"\x91" if self.kind == "list" else b"\x81\xa1a"
        return step * self.depth + b"\xa1x"


NESTED = st.builds(Deep, st.sampled_from([50, 500]), st.sampled_from(["list", "dict"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12) | NESTED

CONTENT_TYPES = st.sampled_from([
    None, "application/json", "application/json; charset=utf-8", "TEXT/JSON", "application/msgpack",
    "application/x-msgpack", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
    "", ";", "application/json;;;", "application/vnd.jcerp.frames",
]) | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
ENCODINGS = st.sampled_from(["json", "msgpack"])


def _markers(value: Any, found: list[Deep]) -> Any:
    """Replace Deep values by their marker strings, collecting them."""
    if isinstance(value, Deep):
        found.append(value)
        return value.marker
    if isinstance(value, list):
        return [_markers(v, found) for v in value]
    if isinstance(value, dict):
        return {k: _markers(v, found) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return value


def encode_body(value: Any, encoding: str) -> tuple[bytes, dict[str, str]]:
    """Encode for the given encoding; JSON may carry NaN/Infinity tokens and lone surrogates."""
    found: list[Deep] = []
    value = _markers(value, found)
    if encoding == "json":
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
        body = text.replace(json.dumps(SURROGATE)[1:-1], "\\ud800").encode("utf-8", "surrogatepass")
        for deep in found:
            body = body.replace(json.dumps(deep.marker).encode(), deep.json())
        return body, {"content-type": "application/json"}
    body = msgspec.msgpack.encode(value)
    for deep in found:
        body = body.replace(msgspec.msgpack.encode(deep.marker), deep.msgpack())
    return body, {"content-type": "application/msgpack"}


def auth_headers(env: Any, choice: str, junk: str) -> dict[str, str]:
    return {
        "valid": env.auth,
        "missing": {},
        "forged": {"authorization": f"Bearer {junk}"},
        "scheme": {"authorization": f"Basic {junk}"},
        "lowercase": {"authorization": f"bearer {env.token}"},
        "padded": {"authorization": f"Bearer   {env.token}  "},
        "bare": {"authorization": junk},
    }[choice]


AUTH = st.sampled_from(["valid", "valid", "missing", "forged", "scheme", "lowercase", "padded", "bare"])
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60)


def valid_message(env: Any, endpoint: str, seq: int) -> dict[str, Any]:
    base = {"type": TYPES[endpoint], "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION}
    if endpoint == "/sync/v1/enroll":
        return {**base, "site_id": env.world.site, "device_name": "fuzzed"}
    if endpoint == "/sync/v1/pull":
        return {**base, "device_id": env.device_id, "site_id": env.world.site, "cursor": 0, "limit": 50}
    if endpoint == "/sync/v1/bootstrap":
        return {**base, "device_id": env.device_id, "chunk_rows": 3}
    envelope = {"seq": seq, "name": "inventory.receive", "version": 1, "hlc": "001795500000000-00000-a1b2c3d4e5f6",
                "user": "张三", "args": env.receive_args()}
    return {**base, "device_id": env.device_id, "mutations": [envelope]}


@st.composite
def corruptions(draw: st.DrawFn, endpoint: str) -> list[tuple[tuple[str, ...], Any]]:
    """A few (path, new value) edits; the value ``DELETE`` removes the field."""
    top = {"/sync/v1/enroll": ["type", "protocol_version", "schema_version", "site_id", "device_name"],
           "/sync/v1/push": ["type", "protocol_version", "schema_version", "device_id", "mutations"],
           "/sync/v1/pull": ["type", "protocol_version", "schema_version", "device_id", "site_id", "cursor",
                             "limit"],
           "/sync/v1/bootstrap": ["type", "protocol_version", "schema_version", "device_id", "chunk_rows",
                                  "resume"]}[endpoint]
    paths = [(name,) for name in top] + [("unknown-field",)]
    if endpoint == "/sync/v1/push":
        paths += [("mutations", "0", name) for name in ("seq", "name", "version", "hlc", "user", "args")]
        paths += [("mutations", "0", "args", name) for name in ("move_id", "item_id", "location_id", "quantity",
                                                                "occurred_at", "reference", "extra")]
    if endpoint == "/sync/v1/bootstrap":
        paths += [("resume", "snapshot_version"), ("resume", "table_index")]
    special = {
        "quantity": st.sampled_from(["NaN", "Infinity", "-Infinity", "sNaN", "1e999999", "1e-999999", "-0",
                                     "0.0000000001", "1" * 400, float("nan"), float("inf"), 1e308, 2**64 - 1]),
        "occurred_at": st.sampled_from(["2026-11-24T08:00:00", "2026-11-24", "2026-11-24T08:00:00+25:00",
                                        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "now", 0,
                                        "2026-11-24T08:00:00.123456789Z"]),
        "seq": st.sampled_from([0, -1, 2**63, 2**64 - 1, 10**6, 1.5, "1", None]),
        "version": st.sampled_from([0, -1, 2, 2**63, 2**64 - 1, "1"]),
        "name": st.sampled_from(["", "inventory.nope", "inventory.receive\x00", "org.create_site",
                                 "sync.resolve_rejection", "inventory.review_exception", "__init__", "x" * 10_000]),
        "cursor": st.sampled_from([-1, -(2**63), 2**62, 2**63 - 1, 2**63, 2**64 - 1]),
        "limit": st.sampled_from([0, -1, 1, 100_000, 100_001, 2**63, 2**64 - 1]),
        "chunk_rows": st.sampled_from([0, -1, 1, 200_000, 200_001, 2**63]),
        "snapshot_version": st.sampled_from([-1, 0, 2**63 - 1, 2**63, 2**64 - 1]),
        "table_index": st.sampled_from([-1, 0, 5, 10_000, 2**63 - 1, 2**64 - 1]),
        "protocol_version": st.sampled_from([0, 2, -1, 2**64 - 1, "1", 1.0, True]),
        "schema_version": st.sampled_from([0, 2, -1, 2**64 - 1, "1", 1.0, True]),
        "mutations": st.sampled_from([[], None, {}, "x", [1], [{}]]),
    }
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        strategy = special.get(path[-1])
        if strategy is not None:
            strategy = strategy | VALUES
        else:
            strategy = VALUES
        edits.append((path, draw(st.just("DELETE") | strategy)))
    return edits


def apply_edits(message: dict[str, Any], edits: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    for path, value in edits:
        target: Any = message
        for step in path[:-1]:
            if isinstance(target, list):
                target = target[int(step)] if target else None
            elif isinstance(target, dict):
                if step == "resume" and not isinstance(target.get(step), dict):
                    target[step] = {"snapshot_version": 1, "table_index": 0, "after_key": None}
                target = target.get(step)
            else:
                target = None
            if target is None:
                break
        if not isinstance(target, dict):
            continue
        if value == "DELETE":
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    resume = message.get("resume")
    if isinstance(resume, dict):
        resume["after_key"] = None  # wrong-shaped keys: see test_fuzz_found_bugs.py
    return message


def send(env: Any, endpoint: str, body: bytes, headers: dict[str, str]):
    response = env.request("POST", endpoint, content=body, headers=headers)
    if response.status_code < 400 and endpoint != "/sync/v1/bootstrap":
        assert response.headers["content-type"].split(";")[0] in ("application/json", "application/msgpack")
    return response


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), body=st.binary(max_size=300), content_type=CONTENT_TYPES,
       auth=AUTH, junk=HEADER_TEXT)
def test_arbitrary_bytes(fuzz_env: Any, endpoint: str, body: bytes, content_type: str | None, auth: str,
                         junk: str) -> None:
    headers = auth_headers(fuzz_env, auth, junk)
    if content_type is not None:
        headers["content-type"] = content_type
    send(fuzz_env, endpoint, body, headers)


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), value=VALUES, tag=st.booleans(), encoding=ENCODINGS, auth=AUTH,
       junk=HEADER_TEXT)
def test_random_shapes(fuzz_env: Any, endpoint: str, value: Any, tag: bool, encoding: str, auth: str,
                       junk: str) -> None:
    if tag:
        value = {"type": TYPES[endpoint], "payload": value} if not isinstance(value, dict) else {
            **value, "type": TYPES[endpoint]}
    body, headers = encode_body(value, encoding)
    send(fuzz_env, endpoint, body, {**headers, **auth_headers(fuzz_env, auth, junk)})


@FUZZ
@given(data=st.data(), encoding=ENCODINGS, auth=st.sampled_from(["valid", "valid", "valid", "forged", "missing"]),
       junk=HEADER_TEXT)
def test_corrupted_push(fuzz_env: Any, data: st.DataObject, encoding: str, auth: str, junk: str) -> None:
    message = valid_message(fuzz_env, "/sync/v1/push", fuzz_env.last_applied_seq() + 1)
    message = apply_edits(message, data.draw(corruptions("/sync/v1/push")))
    body, headers = encode_body(message, encoding)
    send(fuzz_env, "/sync/v1/push", body, {**headers, **auth_headers(fuzz_env, auth, junk)})


@FUZZ
@given(data=st.data(), encoding=ENCODINGS, extra=st.integers(0, 3), name=st.sampled_from(
    ["inventory.receive", "inventory.issue", "inventory.adjust", "inventory.transfer", "inventory.reverse",
     "inventory.count", "inventory.create_item", "inventory.update_item", "inventory.create_location",
     "inventory.review_exception", "sync.resolve_rejection", "sync.acknowledge_conflict", "org.create_site"]))
def test_push_batches_with_random_arguments(fuzz_env: Any, data: st.DataObject, encoding: str, extra: int,
                                            name: str) -> None:
    """Contiguous batches of real mutation names whose arguments are random maps."""
    first = fuzz_env.last_applied_seq() + 1 - data.draw(st.integers(0, 1))
    args = data.draw(st.lists(st.dictionaries(st.sampled_from(
        ["move_id", "item_id", "location_id", "quantity", "occurred_at", "reason", "reference", "rejection_id",
         "conflict_id", "exception_id", "transfer_id", "in_move_id", "out_move_id", "from_location_id",
         "to_location_id", "counted", "site_id", "code", "name", "sku", "unit_code", "warehouse_id",
         "reversal_id", "note", "resolution"]), VALUES | st.sampled_from(
        [fuzz_env.world.item, fuzz_env.world.location, fuzz_env.world.other_location, "1", "-1"])),
        min_size=1 + extra, max_size=1 + extra))
    mutations = [{"seq": max(first, 0) + i, "name": name, "version": 1, "hlc": "h", "args": a}
                 for i, a in enumerate(args)]
    message = {"type": "push", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
               "device_id": fuzz_env.device_id, "mutations": mutations}
    body, headers = encode_body(message, encoding)
    send(fuzz_env, "/sync/v1/push", body, {**headers, **fuzz_env.auth})


WELL_TYPED_TEXT = st.text(max_size=20) | st.sampled_from(["", " ", "𠀋𠮷🚚", "\u202e\ufeff", "\x00", "A" * 10_000,
                                                          "SKU-1", "PCS", "W1", "A-01"])
DECIMALS = st.sampled_from(["1", "2.5", "8"]) | st.sampled_from(["0", "-0", "1", "-1", "0.5", "8.5", "-2.5", "1E+30", "1E-30", "1e400", "-1e400",
                            "123456789012345678901234567890", "0.000000001", "0.0000000001", "NaN", "Infinity",
                            "-Infinity", "1.000000000000000000001"]) | st.decimals(
    allow_nan=False, allow_infinity=False).map(str)
MOMENTS = st.datetimes(timezones=st.sampled_from([
    timezone.utc, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12)),
    timezone(timedelta(hours=5, minutes=45))])).map(lambda moment: moment.isoformat())


def typed(tp: Any, ids: Any, name: str = "") -> st.SearchStrategy[Any]:
    """Values of the declared argument type, chosen from its edges (they decode; the handler decides).

    ``ids(name)`` gives the strings for a field: ids of real rows of the right kind, other rows, new ids.
    """
    origin, params = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return typed(params[0], ids, name)
    if origin in (Union, UnionType):
        return st.one_of([typed(p, ids, name) for p in params])
    if origin is Literal:
        return st.sampled_from(params)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return st.fixed_dictionaries({f.name: typed(f.type, ids, f.name) for f in msgspec.structs.fields(tp)})
    if origin is not None and isinstance(origin, type) and issubclass(origin, msgspec.Struct):
        hints = {f.name: f.type for f in msgspec.structs.fields(origin)}
        value_type = params[0] if "value" in hints else Any
        return st.fixed_dictionaries({"value": typed(value_type, ids, name),
                                      "base_version": st.integers(-1, 2**63 - 1)})
    return {type(None): st.none(), str: ids(name) | WELL_TYPED_TEXT, Decimal: DECIMALS, datetime: MOMENTS,
            bool: st.booleans(), int: st.integers(-(2**63), 2**63 - 1)}.get(tp, VALUES)


def fixed(values: list[str], size: int) -> list[str]:
    """Exactly ``size`` entries (cycled), so the strategies' shape does not depend on the data so far."""
    values = values or ["00000000-0000-0000-0000-000000000000"]
    return [values[i % len(values)] for i in range(size)]


def id_strategies(env: Any) -> Any:
    world, client = env.world, env.client
    moves = [move["id"] for move in client.get("/api/v1/movements?limit=20").json()["items"]]
    preferred = {"item_id": [world.item, world.item2], "location_id": [world.location, world.location2],
                 "from_location_id": [world.location, world.location2],
                 "to_location_id": [world.location2, world.location], "warehouse_id": [world.warehouse],
                 "site_id": [world.site], "move_id": fixed(moves, 8)}
    pool = st.sampled_from(fixed(id_pool(env), 32)) | st.builds(new_id)

    def ids(name: str) -> st.SearchStrategy[str]:
        if name in preferred:
            return st.sampled_from(preferred[name]) | pool
        return st.builds(new_id) | pool if name.endswith("_id") else pool

    return ids


def id_pool(env: Any) -> list[str]:
    world, client = env.world, env.client
    pool = [world.site, world.other_site, world.item, world.item2, world.warehouse, world.location,
            world.location2, world.other_location, env.device_id, "00000000-0000-0000-0000-000000000000"]
    pool += [move["id"] for move in client.get("/api/v1/movements?limit=20").json()["items"]]
    pool += [rejection["id"] for rejection in client.get("/api/v1/rejections").json()[:10]]
    pool += [exception["id"] for exception in client.get("/api/v1/inventory-exceptions").json()[:10]]
    return pool


@FUZZ
@given(data=st.data(), encoding=ENCODINGS, count=st.integers(1, 4), back=st.integers(0, 2))
def test_well_typed_push_batches(fuzz_env: Any, data: st.DataObject, encoding: str, count: int, back: int) -> None:
    """Batches whose arguments decode, with edge values (ids of real and unknown rows, huge and
    tiny decimals, far offsets and years, rare text): the handlers apply or reject them, and a
    200 answers every envelope while ``last_applied_seq`` moves to the batch's end."""
    registry = discover()
    ids = id_strategies(fuzz_env)
    last = fuzz_env.last_applied_seq()
    first = max(1, last + 1 - back)
    mutations = []
    for i in range(count):
        key = data.draw(st.sampled_from(sorted(registry.mutations)))
        definition = registry.mutations[key]
        mutations.append({"seq": first + i, "name": key.split("@")[0], "version": int(key.split("@")[1]),
                          "hlc": data.draw(WELL_TYPED_TEXT), "user": data.draw(st.none() | WELL_TYPED_TEXT),
                          "args": data.draw(typed(definition.args_type, ids))})
    message = {"type": "push", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
               "device_id": fuzz_env.device_id, "mutations": mutations}
    body, headers = encode_body(message, encoding)
    response = send(fuzz_env, "/sync/v1/push", body, {**headers, **fuzz_env.auth})
    if response.status_code == 200:
        answer = response.json() if encoding == "json" else msgspec.msgpack.decode(response.content)
        assert [r["seq"] for r in answer["results"]] == [m["seq"] for m in mutations]
        assert answer["last_applied_seq"] == max(last, first + count - 1) == fuzz_env.last_applied_seq()
        for result in answer["results"]:
            assert result["status"] == ("duplicate" if result["seq"] <= last else result["status"])
            assert result["status"] in ("applied", "rejected", "duplicate")


@FUZZ
@given(endpoint=st.sampled_from(["/sync/v1/enroll", "/sync/v1/pull", "/sync/v1/bootstrap"]), data=st.data(),
       encoding=ENCODINGS, auth=st.sampled_from(["valid", "valid", "forged", "missing"]), junk=HEADER_TEXT)
def test_corrupted_enroll_pull_bootstrap(fuzz_env: Any, endpoint: str, data: st.DataObject, encoding: str,
                                         auth: str, junk: str) -> None:
    message = apply_edits(valid_message(fuzz_env, endpoint, 1), data.draw(corruptions(endpoint)))
    body, headers = encode_body(message, encoding)
    send(fuzz_env, endpoint, body, {**headers, **auth_headers(fuzz_env, auth, junk)})


@FUZZ
@given(protocol_version=st.text(max_size=25) | INTS.map(str), schema_version=st.text(max_size=25) | INTS.map(str),
       auth=st.sampled_from(["forged", "missing", "scheme", "bare"]), junk=HEADER_TEXT)
def test_live_refusals(fuzz_env: Any, protocol_version: str, schema_version: str, auth: str, junk: str) -> None:
    """The live stream never starts for a bad credential or bad versions (a valid one would stream forever)."""
    response = fuzz_env.request("GET", "/sync/v1/live", params={
        "protocol_version": protocol_version, "schema_version": schema_version},
        headers=auth_headers(fuzz_env, auth, junk))
    assert response.status_code >= 400
