"""Clerks signing in on a shared tablet, with and without the network, and a tablet HQ revokes
wiping itself. Real app in-process (SQLite and PostgreSQL), real edge clients; "offline" is the
test transport's switch.

The stories:
- a clerk signs in online once, then offline on the same tablet; work records them;
- five wrong passwords offline lock them on that tablet; the first sign-in offline is refused;
- HQ's refusals reach the tablet's cache: a disabled user is dropped at the next online try;
- a user disabled while the tablet is offline still signs in there (it cannot know), and their
  work from after the moment they were disabled is rejected when it reaches HQ;
- a clerk's tablet refuses at once what their role does not allow;
- HQ revokes the tablet: its next sync wipes the replica and keys, leaves REVOKED, and the home
  is never opened again.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from edge_client.client import EdgeClient
from edge_client.revocation import MARKER, DeviceRevoked
from edge_client.runner import SyncRunner
from edge_client.sign_in import NeedsNetwork, OfflineLocked, OfflineWrongPassword, SignInRefused, UserForbidden
from erp.inventory.stock_move import Adjust
from jcerp.cli import main
from sync.ids import new_id
from tests.support import FlakyTransport, now, receive

PASSWORD = "仓库-口令-2026"


def _hq_user(server, username: str, role: str, site: str | None) -> str:
    answer = server.post("/api/v1/admin/users", json={"username": username, "display_name": f"{username} 用户",
                                                       "roles": [role], "password": PASSWORD, "site_id": site})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _outbox_users(edge) -> list[str | None]:
    with edge.engine.begin() as conn:
        return list(conn.exec_driver_sql("SELECT user_name FROM edge_outbox ORDER BY seq").scalars())


def _rejections(server, edge) -> list[tuple[int, str]]:
    return [(r["seq"], r["code"])
            for r in server.get("/api/v1/rejections", params={"device_id": edge.identity.device_id}).json()]


def test_a_clerk_signs_in_online_once_then_offline_and_work_records_them(server, world, make_edge):
    _hq_user(server, "zhangsan", "warehouse_clerk", world.site)
    tablet = make_edge("shared", role="warehouse_clerk")
    online = tablet.sign_in("zhangsan", PASSWORD)
    assert (online.username, online.display_name, online.offline) == ("zhangsan", "zhangsan 用户", False)
    assert online.roles == ("warehouse_clerk",) and online.may("inventory.receive")
    assert tablet.current_user() == online and tablet.status().signed_in_user == "zhangsan"
    receive(tablet, world, "2")  # no user named: the signed-in one is recorded
    assert tablet.sign_out() == "zhangsan" and tablet.current_user() is None

    tablet.transport.online = False
    offline = tablet.sign_in("zhangsan", PASSWORD)
    assert offline.offline and offline.user_id == online.user_id
    receive(tablet, world, "3")
    assert _outbox_users(tablet) == ["zhangsan", "zhangsan"]
    tablet.transport.online = True
    tablet.sync_once()
    moves = server.get("/api/v1/movements", params={"item_id": world.item}).json()["items"]
    assert [(m["user_name"], Decimal(m["quantity"])) for m in moves] == [("zhangsan", 2), ("zhangsan", 3)]


def test_the_first_sign_in_on_a_tablet_needs_the_network(server, world, make_edge):
    _hq_user(server, "lisi", "warehouse_clerk", world.site)
    tablet = make_edge("new")
    tablet.transport.online = False
    with pytest.raises(NeedsNetwork) as refused:
        tablet.sign_in("lisi", PASSWORD)
    assert "first sign-in on this tablet needs the network" in refused.value.message
    # A verifier lives on the tablet where the user signed in, not on the others.
    other = make_edge("other")
    other.sign_in("lisi", PASSWORD)
    with pytest.raises(NeedsNetwork):
        tablet.sign_in("lisi", PASSWORD)


def test_five_wrong_passwords_offline_lock_the_user_on_that_tablet(server, world, make_edge):
    _hq_user(server, "zhangsan", "warehouse_clerk", world.site)
    tablet = make_edge("shared")
    tablet.sign_in("zhangsan", PASSWORD)
    tablet.sign_out()
    tablet.transport.online = False
    for attempt in range(4):
        with pytest.raises(OfflineWrongPassword):
            tablet.sign_in("zhangsan", f"猜-{attempt}-口令")
    with pytest.raises(OfflineLocked) as locked:
        tablet.sign_in("zhangsan", "猜-4-口令")
    assert locked.value.details["locked_until"]
    with pytest.raises(OfflineLocked):
        tablet.sign_in("zhangsan", PASSWORD)
    assert tablet.current_user() is None


def test_wrong_passwords_on_tablets_count_toward_the_hq_lockout(server, world, make_edge):
    _hq_user(server, "zhangsan", "warehouse_clerk", world.site)
    tablet = make_edge("shared")
    tablet.sign_in("zhangsan", PASSWORD)
    for attempt in range(4):
        with pytest.raises(SignInRefused) as refused:
            tablet.sign_in("zhangsan", f"猜-{attempt}-口令")
        assert refused.value.code == "auth.invalid_credentials"
    with pytest.raises(SignInRefused) as locked:
        tablet.sign_in("zhangsan", "猜-4-口令")
    assert locked.value.code == "auth.account_locked" and locked.value.details["locked_until"]
    # Locked at HQ too, and the tablet copied the lock: no way round it by going offline.
    hq = server.post("/api/v1/auth/login", json={"username": "zhangsan", "password": PASSWORD})
    assert hq.status_code == 403 and hq.json()["code"] == "auth.account_locked"
    tablet.transport.online = False
    with pytest.raises(OfflineLocked):
        tablet.sign_in("zhangsan", PASSWORD)


def test_hq_refuses_users_of_another_site_and_users_the_tablets_role_has_no_use_for(server, world, make_edge):
    _hq_user(server, "elsewhere", "warehouse_clerk", world.other_site)
    _hq_user(server, "hr", "hr_officer", world.site)
    _hq_user(server, "roaming", "warehouse_clerk", None)
    tablet = make_edge("clerks", role="warehouse_clerk")
    with pytest.raises(SignInRefused) as out_of_site:
        tablet.sign_in("elsewhere", PASSWORD)
    assert (out_of_site.value.code, out_of_site.value.http_status) == ("auth.user_out_of_site", 403)
    with pytest.raises(SignInRefused) as useless:
        tablet.sign_in("hr", PASSWORD)
    assert useless.value.code == "auth.no_usable_permission"
    assert useless.value.details["device_role"] == "warehouse_clerk"
    with pytest.raises(SignInRefused) as unknown:
        tablet.sign_in("nobody", PASSWORD)
    assert unknown.value.code == "auth.invalid_credentials"
    assert tablet.sign_in("roaming", PASSWORD).site_id is None  # a user of every site may
    assert tablet.users.cached_usernames() == ["roaming"]


def test_a_user_disabled_at_hq_is_refused_online_and_dropped_from_the_tablet(server, world, make_edge):
    user_id = _hq_user(server, "leaver", "warehouse_clerk", world.site)
    tablet = make_edge("shared")
    tablet.sign_in("leaver", PASSWORD)
    assert server.patch(f"/api/v1/admin/users/{user_id}", json={"active": False}).status_code == 200
    with pytest.raises(SignInRefused) as refused:
        tablet.sign_in("leaver", PASSWORD)
    assert refused.value.code == "auth.invalid_credentials"  # HQ says no more than that
    assert tablet.current_user() is None and tablet.users.cached_usernames() == []
    tablet.transport.online = False
    with pytest.raises(NeedsNetwork):
        tablet.sign_in("leaver", PASSWORD)


def test_a_user_disabled_while_the_tablet_is_offline_works_on_but_later_work_is_rejected(server, world, make_edge):
    user_id = _hq_user(server, "leaver", "warehouse_clerk", world.site)
    tablet = make_edge("shared")
    tablet.sign_in("leaver", PASSWORD)
    tablet.transport.online = False
    receive(tablet, world, "2")  # before HQ disables them: counts
    assert server.patch(f"/api/v1/admin/users/{user_id}", json={"active": False}).status_code == 200
    tablet.clock._now_ms = lambda: int((datetime.now(timezone.utc) + timedelta(seconds=2)).timestamp() * 1000)
    tablet.sign_out()
    # The tablet cannot know: it signs them in from its verifier.
    assert tablet.sign_in("leaver", PASSWORD).offline
    receive(tablet, world, "5")
    tablet.transport.online = True
    tablet.sync_once()
    assert _rejections(server, tablet) == [(2, "auth.user_disabled")]
    assert [(e.kind, e.code) for e in tablet.inbox()] == [("rejection", "auth.user_disabled")]
    on_hand = server.get("/api/v1/on-hand", params={"item_id": world.item, "location_id": world.location}).json()
    assert Decimal(on_hand[0]["quantity"]) == 2
    # Back online, the next sign-in hears of it and the tablet forgets them.
    with pytest.raises(SignInRefused):
        tablet.sign_in("leaver", PASSWORD)
    assert tablet.users.cached_usernames() == []


def test_the_tablet_refuses_at_once_what_the_signed_in_users_role_does_not_allow(server, world, make_edge):
    _hq_user(server, "zhangsan", "warehouse_clerk", world.site)
    _hq_user(server, "manager", "branch_manager", world.site)
    tablet = make_edge("shared")  # a branch manager's tablet: the device role would allow an adjustment
    tablet.sign_in("zhangsan", PASSWORD)
    adjustment = Adjust(new_id(), world.item, world.location, Decimal("-1"), now(), "破损")
    with pytest.raises(UserForbidden) as forbidden:
        tablet.run("inventory.adjust", adjustment)
    assert forbidden.value.code == "auth.user_forbidden" and forbidden.value.details["user"] == "zhangsan"
    assert tablet.status().pending == 0  # nothing queued
    # Naming another user explicitly still works; the server checks that user.
    tablet.run("inventory.adjust", adjustment, user="manager")
    tablet.sync_once()
    assert _rejections(server, tablet) == []
    moves = server.get("/api/v1/movements", params={"kind": "adjustment"}).json()["items"]
    assert [m["user_name"] for m in moves] == ["manager"]


def test_a_revoked_tablet_wipes_itself_at_its_next_sync_and_never_opens_again(server, world, make_edge):
    _hq_user(server, "zhangsan", "warehouse_clerk", world.site)
    tablet = make_edge("lost")
    home = tablet.replica.home
    tablet.sign_in("zhangsan", PASSWORD)
    receive(tablet, world, "1")
    tablet.sync_once()
    assert server.post(f"/api/v1/devices/{tablet.identity.device_id}/revoke").status_code == 200
    receive(tablet, world, "2")  # recorded after the revocation: lost with the tablet
    with pytest.raises(DeviceRevoked) as revoked:
        tablet.sync_once()
    assert revoked.value.code == "sync.device_revoked" and revoked.value.details["revoked_at"]
    assert sorted(path.name for path in home.iterdir()) == [MARKER]
    marker = (home / MARKER).read_text(encoding="utf-8")
    assert "sync.device_revoked" in marker and f"device_id: {tablet.identity.device_id}" in marker
    # The client that wiped does not bring the replica back, whatever it is asked.
    with pytest.raises(DeviceRevoked):
        tablet.status()
    with pytest.raises(DeviceRevoked):
        receive(tablet, world, "3")
    assert sorted(path.name for path in home.iterdir()) == [MARKER]
    with pytest.raises(DeviceRevoked) as reopened:
        EdgeClient(home, transport=FlakyTransport(client=server))
    assert "revoked" in reopened.value.message and str(home / MARKER) in reopened.value.message
    moves = server.get("/api/v1/movements", params={"item_id": world.item}).json()["items"]
    assert [Decimal(m["quantity"]) for m in moves] == [1]


def test_revocation_heard_while_signing_in_or_syncing_continuously_wipes_too(server, world, make_edge):
    _hq_user(server, "zhangsan", "warehouse_clerk", world.site)
    signing_in, watching = make_edge("signing-in"), make_edge("watching")
    for edge in (signing_in, watching):
        assert server.post(f"/api/v1/devices/{edge.identity.device_id}/revoke").status_code == 200
    with pytest.raises(DeviceRevoked):
        signing_in.sign_in("zhangsan", PASSWORD)
    assert (signing_in.replica.home / MARKER).exists()
    runner = SyncRunner(watching, live=False, poll_seconds=0.1)
    runner.run()  # returns: nothing is left to sync
    assert runner.last_error.startswith("sync.device_revoked: headquarters revoked this device")
    assert sorted(path.name for path in watching.replica.home.iterdir()) == [MARKER]


def test_signing_in_and_working_from_the_command_line(server, world, make_edge, monkeypatch, capsys):
    _hq_user(server, "zhangsan", "warehouse_clerk", world.site)
    tablet = make_edge("cli", role="warehouse_clerk")
    home = str(tablet.replica.home)

    class InProcess(FlakyTransport):
        def close(self) -> None:  # the app's test client outlives each command
            pass

    # Every EdgeClient the CLI opens talks to the in-process app.
    monkeypatch.setattr("edge_client.client.HttpTransport",
                        lambda *args, **kwargs: InProcess(*args, client=server, **kwargs))

    def jcerp(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["edge", "--home", home, *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = jcerp("sign-in", "zhangsan", "--password-stdin", stdin="打错了-口令\n")
    assert code == 2 and "wrong user name or password" in err
    code, out, _ = jcerp("sign-in", "zhangsan", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert code == 0 and "signed in as zhangsan 用户 (zhangsan)" in out and "checked by headquarters" in out
    code, out, _ = jcerp("whoami")
    assert code == 0 and "zhangsan" in out and "inventory.receive" in out
    code, out, _ = jcerp("receive", "--item", "SKU-1", "--location", "A-01", "--qty", "4")
    assert code == 0 and "received 4" in out
    code, _, err = jcerp("adjust", "--item", "SKU-1", "--location", "A-01", "--qty", "-1", "--reason", "破损")
    assert code == 2 and "does not allow inventory.adjust" in err
    code, out, _ = jcerp("status")
    assert "signed_in_user             zhangsan" in out
    assert jcerp("sync")[0] == 0
    assert [m["user_name"] for m in server.get("/api/v1/movements").json()["items"]] == ["zhangsan"]
    assert jcerp("sign-out")[1] == "signed out zhangsan\n"
    assert jcerp("whoami")[:2] == (1, "nobody is signed in on this device\n")

    assert server.post(f"/api/v1/devices/{tablet.identity.device_id}/revoke").status_code == 200
    code, _, err = jcerp("sync")
    assert code == 2 and "headquarters revoked this device" in err
    code, _, err = jcerp("status")
    assert code == 2 and "headquarters revoked this device" in err and MARKER in err
