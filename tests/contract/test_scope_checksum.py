"""Scope checksums, on SQLite and PostgreSQL: a synced replica matches the server table for table,
and any divergence (a changed value, a missing row, a row from another site) is named."""

from __future__ import annotations

import pytest

from edge_client.transport import ServerRefused
from protocol import PROTOCOL_VERSION
from protocol.checksum import ChecksumRequest
from sync.schema import SCHEMA_VERSION
from tests.support import issue, receive


def _synced_pair(world, make_edge):
    a, b = make_edge("a"), make_edge("b")
    receive(a, world, "12.5")
    receive(b, world, "3", location=world.location2)
    issue(a, world, "20")  # goes negative: an inventory exception row in the scope too
    for edge in (a, b, a):
        edge.sync_once()
    return a, b


def test_a_synced_replica_matches_the_server_in_every_table(server, world, make_edge):
    a, b = _synced_pair(world, make_edge)
    for edge in (a, b):
        report = edge.verify()
        assert report.comparable and report.matches, report.differing
        assert report.local["stock_moves"].rows == 3
        assert report.local["inventory_exceptions"].rows == 1
        assert set(report.server) == {spec.name for spec in edge.registry.ordered_specs()}


def test_hq_reads_the_same_fingerprints(server, world, make_edge):
    a, _ = _synced_pair(world, make_edge)
    report = a.verify()
    answer = server.get(f"/api/v1/devices/{a.identity.device_id}/checksum").json()
    assert answer["version"] == report.server_version and answer["site_id"] == world.site
    assert {name: (t["rows"], t["digest"]) for name, t in answer["tables"].items()} == {
        name: (t.rows, t.digest) for name, t in report.server.items()}
    missing = server.get("/api/v1/devices/00000000-0000-7000-8000-000000000000/checksum")
    assert missing.status_code == 404 and missing.json()["code"] == "jcerp.not_found"


@pytest.mark.parametrize("damage, table", [
    ("UPDATE on_hand SET quantity = '9.5' WHERE rowid = (SELECT min(rowid) FROM on_hand)", "on_hand"),
    ("DELETE FROM stock_moves WHERE rowid = (SELECT min(rowid) FROM stock_moves)", "stock_moves"),
    ("UPDATE items SET name = name || '𠀀'", "items"),
    ("UPDATE stock_moves SET _version = _version + 1", "stock_moves"),
])
def test_a_damaged_replica_is_caught_and_the_table_named(server, world, make_edge, damage, table):
    a, _ = _synced_pair(world, make_edge)
    with a.engine.begin() as conn:
        conn.exec_driver_sql(damage)
    report = a.verify()
    assert report.comparable and not report.matches
    assert report.differing == [table]


def test_a_replica_with_pending_work_is_not_compared(server, world, make_edge):
    a, _ = _synced_pair(world, make_edge)
    receive(a, world, "1")
    report = a.verify()
    assert report.pending == 1 and not report.comparable and not report.matches


def test_the_checksum_counts_only_the_devices_own_site(server, world, make_edge):
    here = make_edge("here")
    there = make_edge("there", site=world.other_site)
    receive(here, world, "5")
    here.sync_once()
    there.sync_once()
    assert there.verify().matches and there.verify().server["stock_moves"].rows == 0
    assert here.verify().server["stock_moves"].rows == 1


def test_a_device_may_not_ask_for_another_devices_checksum(server, world, make_edge):
    a, b = make_edge("a"), make_edge("b")
    with pytest.raises(ServerRefused) as refused:
        a.transport.checksum(ChecksumRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                                             device_id=b.identity.device_id))
    assert refused.value.status == 403 and refused.value.code == "sync.device_mismatch"
