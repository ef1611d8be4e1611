"""Schemathesis against the server's own OpenAPI schema (the one served at /schema/openapi.json).

Every operation of the schema gets schema-conforming requests (positive mode) and requests
that break the schema (negative mode), a bounded number of each, sent in-process through
Litestar's test client to a server on a SQLite file. Each response must pass Schemathesis'
``not_a_server_error`` check, and the fuzz check of conftest: errors are problem details with a
``code``, and a refused request changes nothing. Sync operations are sent with the enrolled
device's token so they get past authentication; the live stream is sent with a forged one,
since a valid one would stream forever.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from server.app import create_app

BASE_URL = "http://testserver.local"


def _operations() -> dict[str, Any]:
    # Building the app opens no database: the schema comes from the route definitions alone.
    app = create_app("sqlite+aiosqlite:///unused-openapi-only.db")
    loaded = schemathesis.openapi.from_dict(app.openapi_schema.to_schema())
    return {result.ok().label: result.ok() for result in loaded.get_all_operations()}


OPERATIONS = _operations()

# Five of each per operation: with some 190 operations that is nearly 2,000 requests, each
# checked against two snapshots of the database, in about a minute and a half.
EXAMPLES = settings(max_examples=5, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def test_the_served_schema_is_the_one_fuzzed(fuzz_env: Any) -> None:
    served = fuzz_env.client.get("/schema/openapi.json")
    assert served.status_code == 200
    labels = {f"{method.upper()} {path}" for path, item in served.json()["paths"].items() for method in item}
    assert labels == set(OPERATIONS)


def send(env: Any, case: Any) -> None:
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    headers = {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() != "x-schemathesis-testcaseid"}
    if kwargs.get("cookies"):
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
    if kwargs["url"].endswith("/api/v1/auth/logout"):
        headers["authorization"] = f"Bearer {env.throwaway_token()}"
    request: dict[str, Any] = {"params": kwargs.get("params") or None, "headers": headers}
    if "json" in kwargs:
        request["content"] = json.dumps(kwargs["json"], allow_nan=True).encode("utf-8", "surrogatepass")
    elif isinstance(kwargs.get("data"), (bytes, str)):
        request["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        request["data"] = kwargs["data"]
    if kwargs.get("files"):
        request["files"] = kwargs["files"]
    try:
        # httpx refuses some generated headers and URLs before sending (non-Latin-1 header text).
        env.client.build_request(kwargs["method"], kwargs["url"], **request)
    except (UnicodeEncodeError, ValueError, TypeError) as error:
        assume(not error)
    response = env.request(kwargs["method"], kwargs["url"], **request)
    case.validate_response(response, checks=[not_a_server_error])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation(fuzz_env: Any, label: str, mode: GenerationMode) -> None:
    operation = OPERATIONS[label]
    headers = None
    if label.split(" ")[1].startswith("/sync/v1/") and not label.endswith("/enroll"):
        token = "forged-token" if label.endswith("/live") else fuzz_env.token
        headers = {"Authorization": f"Bearer {token}"}
    try:
        strategy = operation.as_strategy(mode, headers=headers)
    except Exception as error:  # negative mode has nothing to break in some operations
        pytest.skip(f"no {mode.value} cases for {label}: {error}")

    @EXAMPLES
    @given(case=strategy)
    def run(case: Any) -> None:
        send(fuzz_env, case)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # Every value of every parameter is valid (e.g. one free-text path parameter, no body).
        pytest.skip(f"{label} has no input that breaks its schema")
