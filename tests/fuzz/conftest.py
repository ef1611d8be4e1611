"""Shared pieces of the HTTP fuzz tests: one in-process server per test module (on a SQLite
file, or on PostgreSQL for ``fuzz_env_pg``), an HQ world and an enrolled device, and the check
every fuzzed request must pass.

The check: the status is below 500; an error (status >= 400) is a problem detail
(``application/problem+json``) with a ``code``; and an error leaves the server's state exactly
as it was. The state is every row of every table of the database file (the sync clock, the
devices' ``last_applied_seq`` and ``last_seen_at``, rejections, moves, on-hand, master data)
plus what the HQ API reports for movements, on-hand, devices and rejections.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from edge_client.device_key import DeviceSignature
from erp.inventory.stock_move import Receive
from protocol import PROTOCOL_VERSION
from protocol.base import encode
from protocol.push import MutationEnvelope, PushRequest
from protocol.signing import public_key_text
from server.rate_limits import RateLimits
from sync.ids import new_id
from sync.schema import SCHEMA_VERSION
from tests.conftest import postgres_url
from tests.support import World, build_world, enrollment_code, now, signed_in_app

API_STATE = ("/api/v1/movements?limit=1000", "/api/v1/on-hand", "/api/v1/devices", "/api/v1/rejections")


@dataclass
class FuzzEnv:
    client: TestClient
    world: World
    db_url: str
    device_id: str
    token: str
    signer: DeviceSignature  # signs every sync request ``request`` sends, whatever its token

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    def receive_args(self, quantity: str = "1") -> dict[str, Any]:
        return receive_args(self.world, quantity)

    def last_applied_seq(self) -> int:
        devices = {d["id"]: d for d in self.client.get("/api/v1/devices").json()}
        return devices[self.device_id]["last_applied_seq"]

    def throwaway_token(self) -> str:
        """A session of its own for sign-out cases, so they never sign the fuzzing client out."""
        answer = self.client.post("/api/v1/auth/login", json={"username": THROWAWAY[0], "password": THROWAWAY[1]})
        assert answer.status_code == 200, answer.text
        return answer.json()["token"]

    def db_state(self) -> dict[str, list[str]]:
        if self.db_url.startswith("postgresql"):
            return asyncio.run(_postgres_state(self.db_url))
        connection = sqlite3.connect(make_url(self.db_url).database)
        try:
            tables = [row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            return {table: sorted(repr(row) for row in connection.execute(f'SELECT {_columns(table)} FROM "{table}"'))
                    for table in tables if table not in WRITTEN_BY_REFUSALS}
        finally:
            connection.close()

    def state(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = {"db": self.db_state()}
        for path in API_STATE:
            response = self.client.get(path)
            assert response.status_code == 200, response.text
            snapshot[path] = response.json()
        return snapshot

    def request(self, method: str, path: str, **kwargs: Any):
        """Send one request and apply the fuzz check; returns the response."""
        before = self.state()
        try:
            if path.startswith("/sync/v1/") and "auth" not in kwargs:
                kwargs["auth"] = self.signer
            response = self.client.request(method, path, **kwargs)
        except Exception as error:  # the app raised out of the response (e.g. inside a stream)
            pytest.fail(f"{method} {path} raised {error!r} instead of answering")
        assert_answer(response)
        if response.status_code >= 400:
            after = self.state()
            changed = [key for key in before if before[key] != after[key]]
            changed += [f"db table {t}" for t in before["db"] if before["db"][t] != after["db"].get(t)]
            assert before == after, f"refused request ({response.status_code}) changed state: {changed}"
        return response


# A refused sign-in is meant to change one thing: the user's count of failed attempts (and,
# at the limit, the lockout). Everything else must stay as it was.
EXPECTED_EFFECTS_OF_REFUSALS = {"hq_users": ("failed_logins", "locked_until")}
# Tables a refused request is meant to write whole rows to: a signed request's nonce is kept even
# when the request is then refused, so it cannot be replayed; the audit log records refused
# sign-ins and HQ commands.
WRITTEN_BY_REFUSALS = ("sync_request_nonces", "audit_log", "audit_chain_head")
THROWAWAY = ("fuzz-sign-out", "只用于注销-𠮷-2026")


def _columns(table: str) -> str:
    from sync.schema import metadata

    skipped = EXPECTED_EFFECTS_OF_REFUSALS.get(table)
    if not skipped:
        return "*"
    return ", ".join(f'"{c.name}"' for c in metadata.tables[table].columns if c.name not in skipped)


async def _postgres_state(url: str) -> dict[str, list[str]]:
    import asyncpg

    parsed = make_url(url)
    connection = await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                       password=parsed.password, database=parsed.database)
    try:
        tables = [row[0] for row in await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")]
        return {table: sorted(repr(tuple(row)) for row in await connection.fetch(f'SELECT {_columns(table)} FROM "{table}"'))
                for table in tables if table not in WRITTEN_BY_REFUSALS}
    finally:
        await connection.close()


def assert_answer(response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers
        body = response.json()
        assert isinstance(body, dict), body
        assert isinstance(body.get("code"), str) and body["code"], body
        assert body.get("status") == response.status_code, body
        assert body.get("type") == f"urn:jcerp:error:{body['code']}", body


def receive_args(world: World, quantity: str = "1") -> dict[str, Any]:
    return {"move_id": new_id(), "item_id": world.item, "location_id": world.location, "quantity": quantity,
            "occurred_at": "2026-11-24T08:00:00Z", "reference": "PO-1"}


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzEnv]:
    """A server on a SQLite file, shared by the tests of one module."""
    yield from _env(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'server.db'}")


@pytest.fixture(scope="module")
def fuzz_env_pg() -> Iterator[FuzzEnv]:
    """A server on a PostgreSQL database of its own (skipped without PostgreSQL, as in tests/conftest.py)."""
    for url in postgres_url():
        yield from _env(url)


def _env(db_url: str) -> Iterator[FuzzEnv]:
    # Unlimited: the fuzzers sign in for every sign-out case; the limits have their own tests.
    with signed_in_app(db_url, rate_limits=RateLimits.unlimited()) as client:
        world = build_world(client)
        created = client.post("/api/v1/admin/users", json={
            "username": THROWAWAY[0], "display_name": "注销用", "password": THROWAWAY[1], "roles": ["warehouse_clerk"]})
        assert created.status_code == 201, created.text
        key = Ed25519PrivateKey.generate()
        enrolled = client.post("/sync/v1/enroll", json={
            "type": "enroll", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
            "site_id": world.site, "device_name": "fuzz", "enrollment_code": enrollment_code(client, world.site),
            "public_key": public_key_text(key)})
        assert enrolled.status_code == 200, enrolled.text
        env = FuzzEnv(client, world, db_url, enrolled.json()["device_id"], enrolled.json()["token"], DeviceSignature(key))
        # Some state to protect: an applied receipt and a stored rejection.
        good = Receive(move_id=new_id(), item_id=world.item, location_id=world.location,
                       quantity=Decimal("5"), occurred_at=now())
        bad = Receive(move_id=new_id(), item_id=world.item, location_id=world.location,
                      quantity=Decimal("0"), occurred_at=now())
        body = encode(PushRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                                  device_id=env.device_id, mutations=[
                                      MutationEnvelope(seq=1, name="inventory.receive", version=1,
                                                       args=msgspec.Raw(encode(good)), hlc="000000000000001-00000-x"),
                                      MutationEnvelope(seq=2, name="inventory.receive", version=1,
                                                       args=msgspec.Raw(encode(bad)), hlc="000000000000002-00000-x"),
                                  ]))
        pushed = client.post("/sync/v1/push", content=body,
                             headers={"content-type": "application/msgpack", **env.auth}, auth=env.signer)
        assert pushed.status_code == 200, pushed.text
        yield env
