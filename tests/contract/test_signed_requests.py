"""Signed sync requests, on SQLite and PostgreSQL: a request is accepted only when signed by the
key its device registered at enrollment, recently, and for the first time.

Each refusal is a 401 problem detail with its own code, and leaves nothing applied.
"""

from __future__ import annotations

import time
from decimal import Decimal

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.client import EdgeClient
from edge_client.device_key import KEY_FILE, DeviceSignature
from erp.inventory.stock_move import Receive
from protocol import PROTOCOL_VERSION
from protocol.base import encode
from protocol.push import MutationEnvelope, PushRequest
from protocol.signing import MAX_CLOCK_SKEW_SECONDS, SIGNATURE_HEADER, public_key_text, sign_request
from sync.ids import new_id
from sync.schema import SCHEMA_VERSION
from tests.support import FlakyTransport, enrollment_code, now, receive

MSGPACK = "application/msgpack"


def _push_body(edge, world, seq: int = 1, quantity: str = "3") -> bytes:
    args = encode(Receive(move_id=new_id(), item_id=world.item, location_id=world.location,
                          quantity=Decimal(quantity), occurred_at=now()))
    return encode(PushRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                              device_id=edge.identity.device_id, mutations=[
                                  MutationEnvelope(seq=seq, name="inventory.receive", version=1,
                                                   args=msgspec.Raw(args), hlc="000000000000001-00000-x")]))


def _headers(edge, body: bytes, *, key=None, timestamp: int | None = None, nonce: str = "n" * 22) -> dict[str, str]:
    signature = sign_request(key or edge.transport.signer.key, "POST", "/sync/v1/push",
                             int(time.time()) if timestamp is None else timestamp, nonce, body)
    return {"content-type": MSGPACK, "authorization": f"Bearer {edge.transport.token}", SIGNATURE_HEADER: signature}


def _refused(response, code: str) -> dict:
    assert response.status_code == 401, response.text
    problem = response.json()
    assert problem["code"] == code and problem["detail"]
    return problem


def _movements(server) -> int:
    return len(server.get("/api/v1/movements").json()["items"])


def test_a_replayed_request_is_refused(server, world, make_edge):
    edge = make_edge("a", sync=False)
    body = _push_body(edge, world)
    headers = _headers(edge, body)
    assert server.post("/sync/v1/push", content=body, headers=headers).status_code == 200
    _refused(server.post("/sync/v1/push", content=body, headers=headers), "sync.request_replayed")
    assert _movements(server) == 1


def test_a_tampered_body_is_refused_and_nothing_is_applied(server, world, make_edge):
    edge = make_edge("a", sync=False)
    signed = _push_body(edge, world, quantity="3")
    tampered = signed.replace(b"\xa13", b"\xa19") if b"\xa13" in signed else _push_body(edge, world, quantity="9")
    assert tampered != signed
    _refused(server.post("/sync/v1/push", content=tampered, headers=_headers(edge, signed)), "sync.bad_signature")
    assert _movements(server) == 0


def test_a_request_signed_by_another_key_is_refused(server, world, make_edge):
    edge = make_edge("a", sync=False)
    body = _push_body(edge, world)
    _refused(server.post("/sync/v1/push", content=body, headers=_headers(edge, body, key=Ed25519PrivateKey.generate())),
             "sync.bad_signature")
    # The token alone, without a signature, is not enough either.
    unsigned = {"content-type": MSGPACK, "authorization": f"Bearer {edge.transport.token}"}
    _refused(server.post("/sync/v1/push", content=body, headers=unsigned), "sync.signature_required")
    assert _movements(server) == 0


def test_an_old_request_is_refused_by_its_time_and_a_device_with_a_wrong_clock_recovers(server, world, make_edge):
    edge = make_edge("a")
    body = _push_body(edge, world)
    old = int(time.time()) - MAX_CLOCK_SKEW_SECONDS - 60
    problem = _refused(server.post("/sync/v1/push", content=body, headers=_headers(edge, body, timestamp=old)),
                       "sync.clock_skew")
    assert abs(problem["details"]["server_time"] - time.time()) < 60
    assert _movements(server) == 0
    # A tablet whose clock is two hours behind: its first request is refused for its time, and
    # it signs again with the server's.
    edge.transport.signer.clock_offset = -7200
    receive(edge, world, "4")
    report = edge.sync_once()
    assert report.pending == 0 and _movements(server) == 1
    assert abs(edge.transport.signer.clock_offset) < 60


def test_enrollment_needs_a_valid_public_key(server, world, tmp_path):
    def enroll(public_key):
        body = {"type": "enroll", "protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
                "site_id": world.site, "device_name": "平板", "enrollment_code": enrollment_code(server, world.site)}
        return server.post("/sync/v1/enroll", json=body if public_key is None else {**body, "public_key": public_key})

    assert enroll(None).json()["code"] == "sync.device_key_required"
    assert enroll("not-a-key").json()["code"] == "sync.bad_device_key"
    assert enroll(public_key_text(Ed25519PrivateKey.generate()) + "A").json()["code"] == "sync.bad_device_key"
    assert enroll(public_key_text(Ed25519PrivateKey.generate())).status_code == 200


def test_the_device_key_stays_on_the_device_and_a_lost_answer_reuses_it(server, world, tmp_path):
    transport = FlakyTransport(client=server)
    transport.lose_responses = 1
    home = tmp_path / "tablet"
    with pytest.raises(Exception):
        EdgeClient.enroll(home, server_url="http://testserver.local", site_id=world.site, device_name="平板",
                          enrollment_code=(code := enrollment_code(server, world.site)), transport=transport)
    key_text = (home / KEY_FILE).read_bytes()
    assert (home / KEY_FILE).stat().st_mode & 0o077 == 0  # owner only
    edge = EdgeClient.enroll(home, server_url="http://testserver.local", site_id=world.site, device_name="平板",
                             enrollment_code=code, transport=transport)
    assert (home / KEY_FILE).read_bytes() == key_text
    edge.sync_once()  # bootstrap
    receive(edge, world, "1")
    assert edge.sync_once().pending == 0
    # A second client opened on the same home signs with the same key.
    again = EdgeClient(home, transport=FlakyTransport(client=server))
    assert isinstance(again.transport.signer, DeviceSignature)
    assert again.sync_once().pending == 0
