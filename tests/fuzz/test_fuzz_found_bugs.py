"""Minimal reproductions of failures the HTTP fuzzing found, one test per failure.

Each test is an ordinary fuzz check (status below 500, errors as problem details, refused
requests change nothing) on the exact input that broke it, marked ``xfail(strict=True)`` until
the server is fixed: when a fix lands, the test passes, strict xfail reports it, and the mark
is removed.
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


@pytest.mark.xfail(strict=True, reason="a JSON or MessagePack body nested thousands of levels deep makes msgspec "
                                       "raise RecursionError, which decode_body does not catch: 500")
@pytest.mark.parametrize("endpoint", ["enroll", "push", "pull", "bootstrap"])
def test_deeply_nested_sync_body(fuzz_env: Any, endpoint: str) -> None:
    fuzz_env.request("POST", f"/sync/v1/{endpoint}", content=with_deep_field(sync_body(fuzz_env, endpoint)),
                     headers={"content-type": "application/json", **fuzz_env.auth})


@pytest.mark.xfail(strict=True, reason="a MessagePack body nested thousands of levels deep: RecursionError, 500")
def test_deeply_nested_msgpack_push(fuzz_env: Any) -> None:
    # A valid empty push plus an unknown member whose value is DEPTH one-element arrays deep.
    marker = "@DEEP@"
    body = msgspec.msgpack.encode({**sync_body(fuzz_env, "push"), "extra": marker})
    body = body.replace(msgspec.msgpack.encode(marker), b"\x91" * DEPTH + b"\x01")
    fuzz_env.request("POST", "/sync/v1/push", content=body,
                     headers={"content-type": "application/msgpack", **fuzz_env.auth})


@pytest.mark.xfail(strict=True, reason="Litestar's body decoding raises RecursionError on a JSON body nested "
                                       "thousands of levels deep; the catch-all handler answers 500")
@pytest.mark.parametrize("method, path", [
    ("POST", "/api/v1/items"), ("POST", "/api/v1/units"), ("POST", "/api/v1/sites"), ("POST", "/api/v1/warehouses"),
    ("POST", "/api/v1/locations"), ("PATCH", "/api/v1/items/x"), ("POST", "/api/v1/inventory-exceptions/x/review"),
])
def test_deeply_nested_hq_body(fuzz_env: Any, method: str, path: str) -> None:
    fuzz_env.request(method, path, content=b'{"x": ' + deep_json() + b"}", headers={"content-type": "application/json"})


@pytest.mark.xfail(strict=True, reason="bootstrap checks resume.after_key only while streaming: a key of the "
                                       "wrong shape fails after the 200 status was sent, the stream breaks off")
@pytest.mark.parametrize("after_key", [[], [{"a": 1}], [[1]], [2**63]], ids=["empty", "map", "list", "huge-int"])
def test_bootstrap_resume_with_malformed_after_key(fuzz_env: Any, after_key: list[Any]) -> None:
    body = {**sync_body(fuzz_env, "bootstrap"),
            "resume": {"snapshot_version": 1, "table_index": 0, "after_key": after_key}}
    fuzz_env.request("POST", "/sync/v1/bootstrap", content=json.dumps(body).encode(),
                     headers={"content-type": "application/json", **fuzz_env.auth})
