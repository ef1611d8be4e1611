"""Device access, on SQLite and PostgreSQL: enrollment codes, the device's role, and the user
signed in on it, checked by the server as it applies each pushed mutation.

A refused mutation is an ordinary rejection: stored, in the device's inbox, listed at HQ, and
never in the way of the mutations after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.client import EdgeClient
from edge_client.device_key import DeviceSignature
from edge_client.revocation import DeviceRevoked
from edge_client.transport import ServerRefused
from erp.inventory.stock_move import Adjust, Receive
from protocol import PROTOCOL_VERSION
from protocol.bootstrap import BootstrapRequest
from protocol.enroll import EnrollRequest
from protocol.signing import public_key_text
from sync.ids import new_id
from sync.schema import SCHEMA_VERSION
from tests.support import FlakyTransport, enrollment_code, now, receive


def _hq_user(server, username: str, role: str, site: str | None) -> str:
    answer = server.post("/api/v1/admin/users", json={"username": username, "display_name": username, "roles": [role],
                                                       "password": "设备-口令-2026", "site_id": site})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _enroll(server, tmp_path, name: str, site: str, code: str | None) -> EdgeClient:
    return EdgeClient.enroll(tmp_path / name, server_url="http://testserver.local", site_id=site, device_name=name,
                             enrollment_code=code, transport=FlakyTransport(client=server))


def _rejections(server, edge) -> list[str]:
    return [r["code"] for r in server.get("/api/v1/rejections", params={"device_id": edge.identity.device_id}).json()]


def test_enrolling_needs_a_valid_one_time_code_for_the_site(server, world, tmp_path):
    with pytest.raises(ServerRefused) as missing:
        _enroll(server, tmp_path, "none", world.site, None)
    assert (missing.value.status, missing.value.code) == (401, "sync.enrollment_code_required")
    with pytest.raises(ServerRefused) as wrong:
        _enroll(server, tmp_path, "wrong", world.site, "AAAA-BBBB-CCCC-DDDD")
    assert (wrong.value.status, wrong.value.code) == (401, "sync.enrollment_code_invalid")

    code = enrollment_code(server, world.site, "warehouse_clerk")
    with pytest.raises(ServerRefused) as elsewhere:
        _enroll(server, tmp_path, "elsewhere", world.other_site, code)
    assert (elsewhere.value.status, elsewhere.value.code) == (403, "sync.enrollment_code_site")
    # Typed as people type it: lower case, no dashes. The site by its code.
    edge = _enroll(server, tmp_path, "ok", "WH1", code.lower().replace("-", ""))
    assert edge.identity.site_id == world.site
    devices = {d["id"]: d for d in server.get("/api/v1/devices").json()}
    assert edge.identity.device_id in devices
    with pytest.raises(ServerRefused) as reused:
        _enroll(server, tmp_path, "again", world.site, code)
    assert reused.value.code == "sync.enrollment_code_invalid"


def test_a_clerks_tablet_cannot_adjust_stock_and_later_work_still_applies(server, world, make_edge):
    tablet = make_edge("clerk", role="warehouse_clerk")
    tablet.run("inventory.adjust", Adjust(new_id(), world.item, world.location, Decimal("-1"), now(), "破损"))
    receive(tablet, world, "3")
    tablet.sync_once()
    assert _rejections(server, tablet) == ["auth.device_role_forbids"]
    assert [(e.kind, e.code) for e in tablet.inbox()] == [("rejection", "auth.device_role_forbids")]
    on_hand = server.get("/api/v1/on-hand", params={"item_id": world.item, "location_id": world.location}).json()
    assert Decimal(on_hand[0]["quantity"]) == 3


def test_work_signed_by_users_is_checked_against_their_account(server, world, make_edge):
    _hq_user(server, "clerk-wh1", "warehouse_clerk", world.site)
    _hq_user(server, "clerk-wh2", "warehouse_clerk", world.other_site)
    _hq_user(server, "inspector", "qc_inspector", world.site)
    tablet = make_edge("shared")
    for user in ("clerk-wh1", "nobody", "clerk-wh2", "inspector"):  # each signs a receipt on the shared tablet
        tablet.run("inventory.receive", Receive(new_id(), world.item, world.location, Decimal(1), now()), user=user)
    tablet.sync_once()
    assert _rejections(server, tablet) == ["auth.unknown_user", "auth.user_out_of_site", "auth.user_forbidden"]
    moves = server.get("/api/v1/movements", params={"item_id": world.item}).json()["items"]
    assert [m["user_name"] for m in moves] == ["clerk-wh1"]


def test_a_disabled_users_offline_work_counts_until_the_moment_they_were_disabled(server, world, make_edge):
    user_id = _hq_user(server, "leaver", "warehouse_clerk", world.site)
    tablet = make_edge("offline")
    tablet.transport.online = False
    tablet.run("inventory.receive", Receive(new_id(), world.item, world.location, Decimal(2), now()), user="leaver")
    # HQ disables the user while the tablet is offline; the user goes on working on it.
    changed = server.patch(f"/api/v1/admin/users/{user_id}", json={"active": False})
    assert changed.status_code == 200 and changed.json()["active"] is False
    tablet.clock._now_ms = lambda: int((datetime.now(timezone.utc) + timedelta(seconds=2)).timestamp() * 1000)
    tablet.run("inventory.receive", Receive(new_id(), world.item, world.location, Decimal(5), now()), user="leaver")
    tablet.transport.online = True
    tablet.sync_once()
    assert _rejections(server, tablet) == ["auth.user_disabled"]
    rejection = server.get("/api/v1/rejections", params={"device_id": tablet.identity.device_id}).json()[0]
    assert rejection["seq"] == 2 and "disabled" in rejection["message"] and rejection["details"]["disabled_at"]
    on_hand = server.get("/api/v1/on-hand", params={"item_id": world.item, "location_id": world.location}).json()
    assert Decimal(on_hand[0]["quantity"]) == 2
    # Signed out everywhere too.
    assert server.post("/api/v1/auth/login", json={"username": "leaver", "password": "设备-口令-2026"}).status_code == 401


def test_nobody_issues_a_code_beyond_their_own_rights_or_site(server, world):
    _hq_user(server, "manager", "branch_manager", world.site)
    answer = server.post("/api/v1/auth/login", json={"username": "manager", "password": "设备-口令-2026"})
    headers = {"authorization": f"Bearer {answer.json()['token']}"}
    ok = server.post("/api/v1/admin/enrollment-codes", json={"site_id": world.site, "role": "warehouse_clerk"},
                     headers=headers)
    assert ok.status_code == 201 and len(ok.json()["code"]) == 19
    other_site = server.post("/api/v1/admin/enrollment-codes", json={"site_id": world.other_site,
                                                                     "role": "warehouse_clerk"}, headers=headers)
    assert other_site.status_code == 403 and other_site.json()["code"] == "auth.out_of_site"
    admin_role = server.post("/api/v1/admin/enrollment-codes", json={"site_id": world.site, "role": "hq_admin"},
                             headers=headers)
    assert admin_role.status_code == 403 and admin_role.json()["code"] == "auth.role_beyond_yours"


def test_a_lost_enrollment_answer_can_be_asked_again_until_the_device_first_syncs(server, world):
    code = enrollment_code(server, world.site)
    key = Ed25519PrivateKey.generate()
    request = EnrollRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION, site_id=world.site,
                            device_name="平板", enrollment_code=code, public_key=public_key_text(key))
    transport = FlakyTransport(client=server)
    first = transport.enroll(request)  # imagine this answer lost on the way
    again = transport.enroll(request)
    assert again.device_id == first.device_id and again.token != first.token
    transport.token, transport.signer = again.token, DeviceSignature(key)
    list(transport.bootstrap(BootstrapRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                                              device_id=again.device_id)))
    with pytest.raises(ServerRefused) as spent:
        transport.enroll(request)
    assert spent.value.code == "sync.enrollment_code_invalid"
    other_name = EnrollRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION, site_id=world.site,
                               device_name="另一台", enrollment_code=enrollment_code(server, world.site),
                               public_key=public_key_text(key))
    transport.enroll(other_name)
    with pytest.raises(ServerRefused):
        transport.enroll(EnrollRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                                       site_id=world.site, device_name="冒名", enrollment_code=other_name.enrollment_code,
                                       public_key=public_key_text(key)))


def test_a_revoked_device_is_refused_at_once_and_told_to_wipe_its_replica(server, world, make_edge):
    tablet = make_edge("lost")
    receive(tablet, world, "1")
    tablet.sync_once()
    _hq_user(server, "manager-wh2", "branch_manager", world.other_site)
    token = server.post("/api/v1/auth/login", json={"username": "manager-wh2", "password": "设备-口令-2026"}).json()
    refused = server.post(f"/api/v1/devices/{tablet.identity.device_id}/revoke",
                          headers={"authorization": f"Bearer {token['token']}"})
    assert refused.status_code == 403 and refused.json()["code"] == "auth.out_of_site"
    revoked = server.post(f"/api/v1/devices/{tablet.identity.device_id}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    receive(tablet, world, "2")
    with pytest.raises(DeviceRevoked) as refusal:  # and it wiped itself (tests/integration/test_tablet_sign_in.py)
        tablet.sync_once()
    assert (refusal.value.http_status, refusal.value.code) == (401, "sync.device_revoked")
    assert "wipe" in (tablet.replica.home / "REVOKED").read_text(encoding="utf-8")
    moves = server.get("/api/v1/movements", params={"item_id": world.item}).json()["items"]
    assert len(moves) == 1  # what it pushed before stays; nothing after
    assert server.post("/api/v1/devices/no-such-device/revoke").status_code == 404
