"""The sync contract, run against SQLite and PostgreSQL: exactly-once push, rejections that
reach the inbox and HQ without blocking, rebase, scopes, field merge, bootstrap, versions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from edge_client.transport import ServerRefused, Unreachable
from erp.inventory.item import UpdateItem
from erp.inventory.stock_move import Receive, Reverse
from protocol import PROTOCOL_VERSION
from protocol.pull import PullRequest
from protocol.push import MutationEnvelope, PushRequest
from sync.context import Edit
from sync.errors import MutationRejected
from sync.ids import new_id
from sync.schema import SCHEMA_VERSION
from tests.support import issue, now, receive, replica_rows


def server_on_hand(server, world, item=None, location=None) -> Decimal | None:
    rows = server.get("/api/v1/on-hand", params={"item_id": item or world.item,
                                                 "location_id": location or world.location}).json()
    return Decimal(rows[0]["quantity"]) if rows else None


def edge_on_hand(edge, world) -> Decimal | None:
    with edge.engine.begin() as conn:
        value = conn.exec_driver_sql("SELECT quantity FROM on_hand WHERE item_id=? AND location_id=?",
                                     (world.item, world.location)).scalar()
    return None if value is None else Decimal(value)


def test_receipt_on_one_device_reaches_the_other(server, world, make_edge):
    a, b = make_edge("a"), make_edge("b")
    receive(a, world, "12.5")
    assert edge_on_hand(a, world) == Decimal("12.5")  # visible at once, before any sync
    assert a.status().pending == 1
    a.sync_once()
    b.sync_once()
    assert edge_on_hand(b, world) == Decimal("12.5")
    assert server_on_hand(server, world) == Decimal("12.5")
    assert a.status().pending == 0


def test_lost_responses_and_repeated_pushes_apply_each_mutation_once(server, world, make_edge):
    a = make_edge("a")
    for _ in range(3):
        receive(a, world, "1")
    a.transport.lose_responses = 1
    with pytest.raises(Unreachable):
        a.push()
    a.transport.repeat_pushes = 1
    a.sync_once()
    assert server_on_hand(server, world) == Decimal(3)
    moves = server.get("/api/v1/movements", params={"item_id": world.item}).json()["items"]
    assert len(moves) == 3
    assert sorted(m["seq"] for m in moves) == [1, 2, 3]
    assert a.status().pending == 0


def test_a_gap_in_sequences_is_refused_and_nothing_is_applied(server, world, make_edge):
    a = make_edge("a")
    receive(a, world, "1")
    receive(a, world, "1")
    with a.engine.begin() as conn:  # lose seq 1 from the outbox, as a corrupted device would
        conn.exec_driver_sql("DELETE FROM edge_outbox WHERE seq = 1")
    with pytest.raises(ServerRefused) as refused:
        a.push()
    assert refused.value.status == 409 and refused.value.code == "sync.sequence_gap"
    assert refused.value.details["expected_seq"] == 1
    assert server_on_hand(server, world) is None


def test_a_rejection_reaches_inbox_and_hq_and_does_not_block_later_work(server, world, make_edge):
    # HQ switches the warehouse to 'reject' while the tablet is offline.
    a = make_edge("a")
    warehouse = server.get("/api/v1/warehouses", params={"site_id": world.site}).json()[0]
    edited = server.patch(f"/api/v1/warehouses/{world.warehouse}", json={
        "negative_stock_policy": {"value": "reject",
                                  "base_version": warehouse["field_versions"].get("negative_stock_policy", 0)}})
    assert edited.status_code == 200, edited.text
    issue(a, world, "5")  # offline view still says 'flag': accepted locally
    receive(a, world, "2")
    a.sync_once()
    assert server_on_hand(server, world) == Decimal(2)  # the later receipt applied
    inbox = a.inbox()
    assert [(e.kind, e.code) for e in inbox] == [("rejection", "inventory.negative_stock")]
    assert edge_on_hand(a, world) == Decimal(2)  # the rejected issue's optimistic effect is gone
    hq = server.get("/api/v1/rejections", params={"device_id": a.identity.device_id}).json()
    assert len(hq) == 1 and hq[0]["code"] == "inventory.negative_stock" and hq[0]["status"] == "open"
    assert hq[0]["args"]["quantity"] == "5"

    # The user fixes the quantity and resubmits: the rejection closes and the issue applies.
    a.resubmit(inbox[0].id, {"quantity": "2"})
    a.sync_once()
    assert server_on_hand(server, world) == Decimal(0)
    assert server.get("/api/v1/rejections", params={"status": "resubmitted"}).json()[0]["id"] == inbox[0].id
    assert a.inbox() == []


def test_discarding_a_rejection_closes_it_everywhere(server, world, make_edge):
    a = make_edge("a")
    with a.engine.begin() as conn:  # a move the device believes exists but the server never saw
        conn.exec_driver_sql(
            "INSERT INTO stock_moves (id, site_id, kind, item_id, location_id, quantity, occurred_at, hlc, _version)"
            " VALUES ('ghost', ?, 'receipt', ?, ?, '1', '2026-01-01T00:00:00Z', 'x', 0)",
            (world.site, world.item, world.location))
    a.run("inventory.reverse", Reverse(reversal_id=new_id(), move_id="ghost", occurred_at=now(), reason="typo"))
    a.sync_once()
    [entry] = a.inbox()
    assert entry.code == "inventory.unknown_move"
    a.discard(entry.id)
    a.sync_once()
    assert a.inbox() == []
    assert server.get("/api/v1/rejections").json()[0]["status"] == "discarded"


def test_a_device_cannot_write_into_another_site(server, world, make_edge):
    a = make_edge("a")
    with pytest.raises(MutationRejected):  # the other site's location is not even on the device
        receive(a, world, "1", location=world.other_location)
    # A crafted push naming the other site's location is refused as out of scope on the server.
    args = Receive(move_id=new_id(), item_id=world.item, location_id=world.other_location,
                   quantity=Decimal(1), occurred_at=now())
    from protocol.base import encode
    import msgspec

    answer = a.transport.push(PushRequest(
        protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION, device_id=a.identity.device_id,
        mutations=[MutationEnvelope(seq=1, name="inventory.receive", version=1, args=msgspec.Raw(encode(args)),
                                    hlc="000000000000001-00000-x")]))
    assert answer.results[0].status == "rejected" and answer.results[0].code == "sync.out_of_scope"
    assert server_on_hand(server, world, location=world.other_location) is None


def test_pull_sends_only_shared_rows_and_the_devices_own_site(server, world, make_edge):
    a = make_edge("a")
    other = make_edge("other", site=world.other_site)
    receive(other, world, "7", location=world.other_location)
    other.sync_once()
    a.sync_once()
    assert {r[1] for r in replica_rows(a, "stock_moves", "id")} <= {world.site}
    assert {r[1] for r in replica_rows(a, "locations", "id")} == {world.site}
    assert len(replica_rows(a, "items", "id")) == 2 and len(replica_rows(a, "sites", "id")) == 2
    assert replica_rows(a, "on_hand", "item_id") == []
    # Asking for another site's scope is refused.
    with pytest.raises(ServerRefused) as refused:
        a.transport.pull(PullRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                                     device_id=a.identity.device_id, site_id=world.other_site, cursor=0))
    assert refused.value.status == 403


def test_master_edits_merge_by_field_and_same_field_conflicts_keep_the_server_value(server, world, make_edge):
    a = make_edge("a")
    item = server.get(f"/api/v1/items/{world.item}").json()
    versions = item["field_versions"]
    # Offline, the tablet renames the item and fixes its barcode...
    a.run("inventory.update_item", UpdateItem(item_id=world.item,
                                              name=Edit("螺栓 M8 𠮷", versions["name"]),
                                              barcode=Edit("6900000000024", versions["barcode"])))
    # ...while HQ renames it too and deactivates nothing else.
    hq_edit = server.patch(f"/api/v1/items/{world.item}", json={"name": {"value": "六角螺栓", "base_version": versions["name"]}})
    assert hq_edit.json()["conflicts"] == []
    a.sync_once()
    merged = server.get(f"/api/v1/items/{world.item}").json()
    assert merged["name"] == "六角螺栓"  # same field changed on both sides: server wins
    assert merged["barcode"] == "6900000000024"  # a field only the tablet changed: tablet wins
    [entry] = a.inbox()
    assert entry.kind == "conflict" and entry.details == {"yours": "螺栓 M8 𠮷", "server": "六角螺栓"}
    [conflict] = server.get("/api/v1/conflicts").json()
    assert conflict["field"] == "name" and conflict["kept"] == "server"
    a.acknowledge(entry.id)
    a.sync_once()
    assert a.inbox() == []
    assert [r for r in replica_rows(a, "items", "id") if r[0] == world.item][0][2] == "六角螺栓"


def test_bootstrap_resumes_after_a_broken_stream(server, world, make_edge):
    seeder = make_edge("seeder")
    for _ in range(30):
        receive(seeder, world, "1")
    seeder.sync_once()
    fresh = make_edge("fresh", sync=False)
    frames = fresh.transport.bootstrap

    def breaking(request, _calls=[0]):
        for index, frame in enumerate(frames(request)):
            if _calls[0] == 0 and index == 4:
                _calls[0] += 1
                raise Unreachable("cut mid-stream (test)")
            yield frame

    fresh.transport.bootstrap = breaking
    with pytest.raises(Unreachable):
        fresh.bootstrap(chunk_rows=5)
    assert not fresh.bootstrapped
    fresh.bootstrap(chunk_rows=5)
    fresh.pull()
    assert fresh.bootstrapped
    assert len(replica_rows(fresh, "stock_moves", "id")) == 30
    assert edge_on_hand(fresh, world) == Decimal(30)


def test_pull_pages_end_on_version_boundaries(server, world, make_edge):
    a, b = make_edge("a"), make_edge("b")
    for _ in range(12):
        receive(a, world, "1")
        a.sync_once()  # one commit (version) per receipt
    report = b.pull(page_rows=5)
    assert report.pages >= 3
    assert edge_on_hand(b, world) == Decimal(12)


def test_an_outdated_client_is_told_to_update(server, world, make_edge):
    a = make_edge("a")
    with pytest.raises(ServerRefused) as refused:
        a.transport.pull(PullRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION - 1 or 99,
                                     device_id=a.identity.device_id, site_id=world.site, cursor=0))
    assert refused.value.status == 426 and refused.value.code == "sync.client_outdated"
    assert "Update the app" in refused.value.detail


def test_rebase_keeps_pending_work_on_top_of_server_state(server, world, make_edge):
    a, b = make_edge("a"), make_edge("b")
    receive(b, world, "100")
    b.sync_once()
    issue(a, world, "30")  # pending on a
    a.pull()  # pull only: the pending issue is re-run on top of the server's 100
    assert edge_on_hand(a, world) == Decimal(70)
    assert a.status().pending == 1
    a.sync_once()
    assert server_on_hand(server, world) == Decimal(70)


def test_a_cursor_that_moves_backwards_is_refused(server, world, make_edge):
    from edge_client.rebase import apply_pull_page
    from protocol.pull import PullResponse
    from sync.errors import CursorRegressed

    a = make_edge("a")
    receive(a, world, "1")
    a.sync_once()
    with pytest.raises(CursorRegressed):
        with a.engine.begin() as conn:
            apply_pull_page(conn, a.registry, a.identity,
                            PullResponse(cursor=0, last_applied_seq=0, has_more=False, tables=[]))
    assert edge_on_hand(a, world) == Decimal(1)


def test_values_the_server_would_refuse_are_refused_on_the_device_at_once(server, world, make_edge):
    a = make_edge("a")
    with pytest.raises(MutationRejected) as refused:
        a.run("inventory.receive", Receive(move_id=new_id(), item_id=world.item, location_id=world.location,
                                           quantity=Decimal(1), occurred_at=now(), reference="PO-\x00-1"))
    assert refused.value.code == "sync.invalid_arguments"
    with pytest.raises(MutationRejected) as refused:
        a.run("inventory.receive", Receive(move_id="长" * 40, item_id=world.item, location_id=world.location,
                                           quantity=Decimal(1), occurred_at=now()))
    assert refused.value.code == "sync.text_too_long"
    assert a.status().pending == 0  # nothing queued that could block the outbox
    receive(a, world, "1")
    a.sync_once()
    assert server_on_hand(server, world) == Decimal(1)
