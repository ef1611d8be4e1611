"""The audit log, end to end on SQLite and PostgreSQL: sign-ins and their refusals, lockout and
sign-out; user, role and enrollment-code administration with the administrator named; devices
enrolling, bootstrapping and being revoked; every pushed and HQ-run mutation with its outcome;
the query filters; and verify, which finds a row changed or deleted directly in the database."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from server.audit import Event, record_many
from server.auth.service import MAX_FAILED_LOGINS
from server.db import Database
from tests.support import receive, sign_in

PASSWORD = "审计-口令-𠮷-2026"


def entries(client, **params) -> list[dict]:
    """Every entry matching ``params``, following the pages."""
    found, after = [], 0
    while True:
        response = client.get("/api/v1/admin/audit", params={**params, "after_seq": after})
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        after = page["next_after_seq"]
        if after is None:
            return found


def verify(client) -> dict:
    response = client.get("/api/v1/admin/audit/verify")
    assert response.status_code == 200, response.text
    return response.json()


def run_sql(client, statement: str, **params) -> None:
    """Change the database behind the server's back, as someone with database access would."""
    db = client.app.state.db
    client.blocking_portal.call(db.write, lambda conn: conn.execute(text(statement), params))


def login(client, username: str, password: str):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def create_user(client, username: str, roles: list[str], site_id: str | None = None) -> str:
    response = client.post("/api/v1/admin/users", json={
        "username": username, "display_name": f"{username} 𠮷", "password": PASSWORD, "roles": roles,
        "site_id": site_id})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_sign_ins_refusals_lockout_and_sign_out_are_recorded(server):
    user_id = create_user(server, "李𠮷", ["warehouse_clerk"])
    assert login(server, "李𠮷", "wrong password!").status_code == 401
    token = login(server, "李𠮷", PASSWORD).json()["token"]
    assert server.post("/api/v1/auth/logout", headers={"authorization": f"Bearer {token}"}).status_code == 200
    for _ in range(MAX_FAILED_LOGINS):
        login(server, "李𠮷", "wrong password!")
    locked = login(server, "李𠮷", PASSWORD)
    assert locked.status_code == 403 and locked.json()["code"] == "auth.account_locked"
    assert login(server, "ghost" + "x" * 500, "whatever-1").status_code == 401

    mine = entries(server, actor="李𠮷")
    assert [(e["action"], e["detail"].get("reason")) for e in mine] == [
        ("auth.login_failed", "wrong_password"),
        ("auth.login", None),
        ("auth.logout", None),
        *[("auth.login_failed", "wrong_password")] * MAX_FAILED_LOGINS,
        ("auth.lockout", None),
        ("auth.login_failed", "locked"),
    ]
    assert all(e["subject"] == user_id and e["source"] == "testclient" for e in mine)
    assert mine[1]["detail"]["roles"] == ["warehouse_clerk"]
    assert [e["detail"]["failed_logins"] for e in mine[3:3 + MAX_FAILED_LOGINS]] == list(range(1, MAX_FAILED_LOGINS + 1))
    assert "locked_until" in mine[-2]["detail"]
    # A name nobody has is recorded as typed, clipped to the column.
    unknown = entries(server, action="auth.login_failed")[-1]
    assert unknown["actor"] == ("ghost" + "x" * 500)[:120] and unknown["subject"] is None
    assert unknown["detail"] == {"reason": "unknown_user"}
    assert PASSWORD not in json.dumps(entries(server), ensure_ascii=False)
    assert verify(server)["ok"]


def test_user_role_and_enrollment_code_changes_name_the_administrator(server, world):
    user_id = create_user(server, "zhang", ["warehouse_clerk"], world.site)
    new_password = "新口令-换了-2026"
    changed = server.patch(f"/api/v1/admin/users/{user_id}", json={"roles": ["buyer"], "password": new_password})
    assert changed.status_code == 200, changed.text
    role = server.post("/api/v1/admin/roles", json={"code": "auditor", "name": "审计员", "grants": ["admin.audit"]})
    assert role.status_code == 201, role.text
    code = server.post("/api/v1/admin/enrollment-codes", json={"site_id": world.site, "role": "warehouse_clerk"})
    assert code.status_code == 201, code.text

    created, updated = entries(server, subject=user_id)
    assert (created["action"], created["actor"], created["site_id"]) == ("admin.user_created", "admin", world.site)
    assert created["detail"] == {"username": "zhang", "display_name": "zhang 𠮷", "roles": ["warehouse_clerk"],
                                 "site_id": world.site}
    assert (updated["action"], updated["actor"], updated["source"]) == ("admin.user_updated", "admin", "testclient")
    assert updated["detail"] == {"roles": ["buyer"], "password_changed": True, "signed_out": True}
    [saved] = entries(server, action="admin.role_saved", actor="admin")
    assert saved["subject"] == "auditor" and saved["detail"]["grants"] == ["admin.audit"]
    [issued] = entries(server, action="admin.enrollment_code_issued")
    assert (issued["actor"], issued["site_id"], issued["detail"]["role"]) == ("admin", world.site, "warehouse_clerk")
    everything = json.dumps(entries(server), ensure_ascii=False)
    assert new_password not in everything and PASSWORD not in everything
    assert code.json()["code"] not in everything and code.json()["code"].replace("-", "") not in everything
    # The built-in roles written at start are recorded as the release's.
    builtin = entries(server, action="admin.role_saved", subject="hq_admin")
    assert builtin and builtin[0]["source"] == "release" and builtin[0]["actor"] is None


def test_every_pushed_mutation_is_recorded_once_with_its_device_user_and_outcome(server, world, make_edge):
    edge = make_edge("平板-审计")
    device = edge.identity.device_id
    [enrolled] = entries(server, action="device.enrolled", device_id=device)
    assert (enrolled["site_id"], enrolled["source"], enrolled["detail"]["role"]) == (
        world.site, f"device:{device}", "branch_manager")
    [issued] = entries(server, subject=enrolled["detail"]["enrollment_code"])
    assert issued["action"] == "admin.enrollment_code_issued"
    [export] = entries(server, action="export.bootstrap", device_id=device)
    assert export["detail"]["resume"] is False

    applied_seq = edge.run("inventory.receive", receive_args(world), user="admin")
    rejected_seq = edge.run("inventory.receive", receive_args(world), user="ghost")
    edge.transport.repeat_pushes = 1  # the same batch twice: the repeat is acknowledged, not recorded
    edge.sync_once()

    pushed = entries(server, action="mutation.*", device_id=device)
    assert [(e["action"], e["actor"], e["subject"]) for e in pushed] == [
        ("mutation.applied", "admin", f"{device}:{applied_seq}"),
        ("mutation.rejected", "ghost", f"{device}:{rejected_seq}"),
    ]
    assert all(e["site_id"] == world.site and e["source"] == f"device:{device}" for e in pushed)
    assert pushed[0]["detail"]["mutation"] == "inventory.receive@1" and "code" not in pushed[0]["detail"]
    assert pushed[1]["detail"]["code"] == "auth.unknown_user"
    assert pushed[0]["detail"]["commit_version"] == pushed[1]["detail"]["commit_version"] > 0

    revoked = server.post(f"/api/v1/devices/{device}/revoke")
    assert revoked.status_code == 200, revoked.text
    [revocation] = entries(server, action="device.revoked")
    assert (revocation["actor"], revocation["device_id"], revocation["site_id"]) == ("admin", device, world.site)
    assert verify(server)["ok"]


def receive_args(world):
    from decimal import Decimal

    from erp.inventory.stock_move import Receive
    from sync.ids import new_id

    return Receive(move_id=new_id(), item_id=world.item, location_id=world.location, quantity=Decimal("3"),
                   occurred_at=datetime.now(timezone.utc))


def test_hq_commands_are_recorded_applied_and_rejected(server, world):
    created = [e for e in entries(server, action="mutation.applied", actor="admin")
               if e["detail"]["mutation"] == "org.create_site@1"]
    assert len(created) == 2 and all(e["device_id"] is None and e["subject"].startswith("hq:") for e in created)
    again = server.post("/api/v1/sites", json={"code": "WH1", "name": "重复", "kind": "warehouse"})
    assert again.status_code == 422, again.text
    [refused] = entries(server, action="mutation.rejected", actor="admin")
    assert refused["detail"] == {"mutation": "org.create_site@1", "code": "org.site_code_taken"}
    assert verify(server)["ok"]


def test_filters_and_pages(server, world, make_edge):
    edge = make_edge("filter-tab")
    device = edge.identity.device_id
    for _ in range(3):
        receive(edge, world, "1")
    edge.sync_once()
    everything = entries(server)
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))  # oldest first, no gap

    page = server.get("/api/v1/admin/audit", params={"limit": 2}).json()
    assert [e["seq"] for e in page["items"]] == [1, 2] and page["next_after_seq"] == 2
    following = server.get("/api/v1/admin/audit", params={"limit": 2, "after_seq": 2}).json()
    assert following["items"][0]["seq"] == 3
    assert server.get("/api/v1/admin/audit", params={"limit": 1001}).status_code == 400
    assert server.get("/api/v1/admin/audit", params={"limit": 0}).status_code == 400

    assert {e["action"] for e in entries(server, action="auth.*")} == {"auth.login"}
    assert {e["action"] for e in entries(server, action="mutation.applied", device_id=device)} == {"mutation.applied"}
    assert len(entries(server, action="mutation.applied", device_id=device)) == 3
    assert all(e["site_id"] == world.site for e in entries(server, site_id=world.site))
    assert entries(server, site_id=world.other_site) == []

    def at(entry: dict) -> datetime:
        return datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))

    middle = everything[len(everything) // 2]
    since = entries(server, since=middle["at"])
    assert since and all(at(e) >= at(middle) for e in since) and since[0]["seq"] <= middle["seq"]
    until = entries(server, until=middle["at"])
    assert until and all(at(e) < at(middle) for e in until)
    assert len(since) + len(until) == len(everything)
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert entries(server, since=future) == []


def test_a_site_bound_auditor_reads_their_site_only(server, world, make_edge):
    make_edge("site-tab")
    server.post("/api/v1/admin/roles", json={"code": "auditor", "name": "审计员", "grants": ["admin.audit"]})
    create_user(server, "site-auditor", ["auditor"], world.site)
    admin_token = server.headers["authorization"]
    try:
        sign_in(server, "site-auditor", PASSWORD)
        seen = entries(server)
        assert seen and all(e["site_id"] == world.site for e in seen)
        outside = server.get("/api/v1/admin/audit", params={"site_id": world.other_site})
        assert outside.status_code == 403 and outside.json()["code"] == "auth.out_of_site"
        assert verify(server)["ok"]
    finally:
        server.headers["authorization"] = admin_token
    clerk_id = create_user(server, "clerk", ["warehouse_clerk"])
    assert clerk_id
    try:
        sign_in(server, "clerk", PASSWORD)
        assert server.get("/api/v1/admin/audit").status_code == 403
        assert server.get("/api/v1/admin/audit/verify").status_code == 403
    finally:
        server.headers["authorization"] = admin_token


def test_verify_finds_a_changed_row_at_its_seq(server, world):
    before = verify(server)
    assert before["ok"] and before["first_broken_seq"] is None
    assert before["entries_checked"] == len(entries(server)) == before["last_seq"]
    assert before["last_hash"] == entries(server)[-1]["hash"]
    target = entries(server, action="mutation.applied")[1]["seq"]
    run_sql(server, "UPDATE audit_log SET detail_json = :forged WHERE seq = :seq",
            forged='{"mutation":"org.create_site@1","note":"nothing happened"}', seq=target)
    after = verify(server)
    assert not after["ok"] and after["first_broken_seq"] == target
    assert after["last_seq"] == target - 1
    assert after["entries_checked"] == target


def test_verify_finds_a_changed_actor_or_time(server, world):
    target = entries(server, action="auth.login")[0]["seq"]
    run_sql(server, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = :seq", seq=target)
    assert verify(server)["first_broken_seq"] == target


def test_verify_finds_a_deleted_row_and_a_cut_off_end(server, world):
    last = verify(server)["last_seq"]
    target = last // 2
    run_sql(server, "DELETE FROM audit_log WHERE seq = :seq", seq=target)
    assert verify(server)["first_broken_seq"] == target
    run_sql(server, "DELETE FROM audit_log WHERE seq >= :seq", seq=target)  # now only the end is missing
    result = verify(server)
    assert not result["ok"] and result["first_broken_seq"] == target and result["last_seq"] == target - 1


def test_an_emptied_log_and_a_missing_head_are_reported(server):
    run_sql(server, "DELETE FROM audit_chain_head")
    result = verify(server)
    assert not result["ok"] and result["first_broken_seq"] == result["last_seq"] + 1
    # Nothing audited is written without its entry: sign-in fails closed.
    refused = login(server, "admin", "any-password-1")
    assert refused.status_code == 500 and refused.json()["code"] == "audit.chain_head_missing"


@pytest.mark.postgres
def test_concurrent_writers_on_postgresql_chain_one_after_another(pg_url):
    """Two processes' worth of writers (separate engines, no shared in-process lock) record at
    once; the head's row lock makes them take turns, so seqs stay contiguous and the chain verifies."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from server.audit.queries import verify_chain

    async def prepare() -> None:
        db = Database(pg_url)
        await db.migrate()
        await db.dispose()

    asyncio.run(prepare())
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        async def go() -> None:
            engine = create_async_engine(pg_url)
            try:
                for round_ in range(20):
                    async with engine.begin() as conn:
                        await conn.run_sync(record_many, [Event("test.concurrent", name, subject=f"{round_}:{i}")
                                                          for i in range(5)])
            finally:
                await engine.dispose()

        try:
            asyncio.run(go())
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(f"writer-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    async def check():
        engine = create_async_engine(pg_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(verify_chain)
        finally:
            await engine.dispose()

    result = asyncio.run(check())
    assert result.ok, result
    assert result.entries_checked == result.last_seq == 4 * 20 * 5
