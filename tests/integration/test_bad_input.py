"""Bad input never gets a 500 and never leaves anything half-written: each case gets a 4xx
problem detail (RFC 9457) with a stable code, and the server's state is unchanged."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import PROTOCOL_VERSION
from protocol.base import encode
from protocol.push import MAX_BATCH, MutationEnvelope, PushRequest
from protocol.signing import public_key_text
from edge_client.device_key import DeviceSignature
from erp.inventory.stock_move import Receive
from sync.ids import new_id
from sync.schema import SCHEMA_VERSION
from tests.support import device_auth, enrollment_code, now

MSGPACK = {"content-type": "application/msgpack"}


@pytest.fixture
def device(server, world, make_edge):
    edge = make_edge("a")
    return edge


def _auth(edge) -> DeviceSignature:
    return device_auth(edge)


def _receive_args(world, quantity="1") -> bytes:
    return encode(Receive(move_id=new_id(), item_id=world.item, location_id=world.location,
                          quantity=Decimal(quantity), occurred_at=now()))


def _push(edge, envelopes) -> bytes:
    return encode(PushRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                              device_id=edge.identity.device_id, mutations=envelopes))


def _envelope(seq, args, name="inventory.receive", version=1) -> MutationEnvelope:
    return MutationEnvelope(seq=seq, name=name, version=version, args=msgspec.Raw(args), hlc="000000000000001-00000-x")


def _assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["type"] == f"urn:jcerp:error:{code}"
    assert body["title"] and body["detail"]
    return body


def _nothing_applied(server, edge) -> None:
    assert server.get("/api/v1/movements").json()["items"] == []
    devices = {d["id"]: d for d in server.get("/api/v1/devices").json()}
    assert devices[edge.identity.device_id]["last_applied_seq"] == 0


def test_malformed_msgpack(server, device):
    response = server.post("/sync/v1/push", content=b"\xc1\xff\x00", headers=MSGPACK, auth=_auth(device))
    _assert_problem(response, 400, "sync.malformed_body")
    _nothing_applied(server, device)


def test_malformed_json(server, device):
    response = server.post("/sync/v1/push", content=b'{"type": "push", ', headers={
        "content-type": "application/json"}, auth=_auth(device))
    _assert_problem(response, 400, "sync.malformed_body")


def test_wrong_message_shape(server, device):
    response = server.post("/sync/v1/push", content=msgspec.msgpack.encode({"type": "push", "mutations": "x"}),
                           headers=MSGPACK, auth=_auth(device))
    _assert_problem(response, 400, "sync.invalid_message")


def test_unknown_mutation_refuses_the_whole_batch(server, world, device):
    body = _push(device, [_envelope(1, _receive_args(world)), _envelope(2, _receive_args(world), name="x.nope")])
    problem = _assert_problem(server.post("/sync/v1/push", content=body, headers=MSGPACK, auth=_auth(device)),
                              422, "sync.unknown_mutation")
    assert problem["details"]["name"] == "x.nope"
    _nothing_applied(server, device)


def test_wrong_argument_types(server, world, device):
    bad = msgspec.msgpack.encode({"move_id": new_id(), "item_id": world.item, "location_id": world.location,
                                  "quantity": "lots", "occurred_at": "yesterday"})
    body = _push(device, [_envelope(1, _receive_args(world)), _envelope(2, bad)])
    problem = _assert_problem(server.post("/sync/v1/push", content=body, headers=MSGPACK, auth=_auth(device)),
                              422, "sync.invalid_arguments")
    assert problem["details"]["seq"] == 2
    _nothing_applied(server, device)


def test_naive_timestamps_are_refused(server, world, device):
    bad = msgspec.msgpack.encode({"move_id": new_id(), "item_id": world.item, "location_id": world.location,
                                  "quantity": "1", "occurred_at": "2026-11-24T08:00:00"})
    body = _push(device, [_envelope(1, bad)])
    _assert_problem(server.post("/sync/v1/push", content=body, headers=MSGPACK, auth=_auth(device)),
                    422, "sync.invalid_arguments")


def test_oversized_batch(server, world, device):
    args = _receive_args(world)
    body = _push(device, [_envelope(seq, args) for seq in range(1, MAX_BATCH + 2)])
    _assert_problem(server.post("/sync/v1/push", content=body, headers=MSGPACK, auth=_auth(device)),
                    413, "sync.batch_too_large")
    _nothing_applied(server, device)


def test_oversized_body(server, device):
    response = server.post("/sync/v1/push", content=b"\x00" * (17 * 1024 * 1024), headers=MSGPACK, auth=_auth(device))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_non_contiguous_batch(server, world, device):
    body = _push(device, [_envelope(1, _receive_args(world)), _envelope(3, _receive_args(world))])
    _assert_problem(server.post("/sync/v1/push", content=body, headers=MSGPACK, auth=_auth(device)),
                    400, "sync.batch_not_contiguous")
    _nothing_applied(server, device)


def test_sequence_gap(server, world, device):
    body = _push(device, [_envelope(5, _receive_args(world))])
    problem = _assert_problem(server.post("/sync/v1/push", content=body, headers=MSGPACK, auth=_auth(device)),
                              409, "sync.sequence_gap")
    assert problem["details"] == {"expected_seq": 1, "received_seq": 5}
    _nothing_applied(server, device)


def test_unknown_device(server, world, device):
    body = _push(device, [_envelope(1, _receive_args(world))])
    response = server.post("/sync/v1/push", content=body, headers={**MSGPACK, "authorization": "Bearer forged"})
    _assert_problem(response, 401, "sync.unknown_device")
    _assert_problem(server.post("/sync/v1/pull", content=b"", headers={**MSGPACK, "authorization": ""}), 401,
                    "sync.unauthenticated")
    _nothing_applied(server, device)


def test_a_token_cannot_speak_for_another_device(server, world, make_edge):
    a, b = make_edge("a"), make_edge("b")
    body = _push(b, [_envelope(1, _receive_args(world))])
    _assert_problem(server.post("/sync/v1/push", content=body, headers=MSGPACK, auth=_auth(a)),
                    403, "sync.device_mismatch")


def test_enrolling_for_an_unknown_site(server, world):
    body = msgspec.json.encode({"type": "enroll", "protocol_version": PROTOCOL_VERSION,
                                "schema_version": SCHEMA_VERSION, "site_id": "nope", "device_name": "x",
                                "enrollment_code": enrollment_code(server, world.site),
                                "public_key": public_key_text(Ed25519PrivateKey.generate())})
    _assert_problem(server.post("/sync/v1/enroll", content=body, headers={"content-type": "application/json"}),
                    404, "sync.unknown_site")


def test_hq_api_validation_errors_are_problem_details(server, world):
    response = server.post("/api/v1/items", json={"sku": "X"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    response = server.get("/api/v1/items/does-not-exist")
    _assert_problem(response, 404, "jcerp.not_found")
    response = server.patch(f"/api/v1/items/{world.item}", json={"sku": {"value": "Y", "base_version": 0}})
    assert response.status_code in (400, 422)
