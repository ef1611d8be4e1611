"""Rate limits on sign-in and enrollment: one address cannot try many passwords or many
enrollment codes, each endpoint counts on its own, and the limits are configurable."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient

from protocol import PROTOCOL_VERSION
from protocol.signing import public_key_text
from server.app import create_app
from server.rate_limits import Limit, RateLimits, parse_limit
from sync.schema import SCHEMA_VERSION
from tests.support import ADMIN, build_world, sign_in


def test_limits_parse_from_text_and_environment():
    assert parse_limit("30/minute") == Limit(30, "minute")
    assert parse_limit(" 5 / second ") == Limit(5, "second")
    assert parse_limit("OFF") is None
    for bad in ("", "0/minute", "10/week", "ten/minute", "10"):
        with pytest.raises(ValueError):
            parse_limit(bad)
    configured = RateLimits.from_env({"JCERP_RATE_LIMIT_SIGN_IN": "3/hour", "JCERP_RATE_LIMIT_ENROLL": "off"})
    assert configured.sign_in == Limit(3, "hour") and configured.enroll is None
    assert configured.tablet_sign_in == RateLimits().tablet_sign_in  # untouched: the default
    assert RateLimits.unlimited().middleware() == []


def test_sign_in_and_enrollment_are_limited_per_address_each_on_its_own(tmp_path):
    limits = RateLimits(sign_in=Limit(4, "minute"), enroll=Limit(2, "minute"), tablet_sign_in=None)
    with TestClient(create_app(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}", bootstrap_admin=ADMIN,
                               rate_limits=limits)) as client:
        sign_in(client, *ADMIN)  # 1 of 4
        world = build_world(client)
        wrong = [client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"}) for _ in range(3)]
        assert [r.status_code for r in wrong] == [401, 401, 401]
        limited = client.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert limited.status_code == 429
        problem = limited.json()
        assert problem["code"] == "http.rate_limited" and problem["status"] == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert int(limited.headers["ratelimit-reset"]) > 0
        # Signed-in work goes on; only the guessing endpoint is closed for this address.
        assert client.get("/api/v1/sites").status_code == 200
        enroll = {"type": "enroll", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
                  "site_id": world.site,
                  "device_name": "平板", "enrollment_code": "AAAA-BBBB-CCCC-DDDD",
                  "public_key": public_key_text(Ed25519PrivateKey.generate())}
        codes = [client.post("/sync/v1/enroll", json=enroll).json()["code"] for _ in range(3)]
        assert codes == ["sync.enrollment_code_invalid", "sync.enrollment_code_invalid", "http.rate_limited"]
