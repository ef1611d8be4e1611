"""A revoked device's self-wipe (``edge_client.revocation``): what is deleted, what is left, and
that a wiped home is never opened again, even when the wipe was cut short."""

from __future__ import annotations

import pytest

from edge_client.client import EdgeClient
from edge_client.device_key import KEY_FILE
from edge_client.replica import REPLICA_FILE
from edge_client.revocation import MARKER, DeviceRevoked, refuse_if_revoked, wipe


def _device_home(home):
    home.mkdir()
    for name in (REPLICA_FILE, f"{REPLICA_FILE}-wal", f"{REPLICA_FILE}-shm", KEY_FILE, "backup.key"):
        (home / name).write_bytes(b"secret")
    (home / "notes.txt").write_text("not the device's", encoding="utf-8")
    return home


def test_wipe_deletes_the_replica_and_keys_and_leaves_an_explanation(tmp_path):
    home = _device_home(tmp_path / "tablet")
    error = wipe(home, device_id="dev-1", reason="sync.device_revoked: headquarters revoked\nthis device",
                 revoked_at="2026-11-24T08:00:00+00:00")
    assert sorted(path.name for path in home.iterdir()) == [MARKER, "notes.txt"]
    text = (home / MARKER).read_text(encoding="utf-8")
    assert text.startswith("此设备已被总部吊销")
    assert "revoked_at: 2026-11-24T08:00:00+00:00" in text and "device_id: dev-1" in text
    assert "reason: sync.device_revoked: headquarters revoked this device" in text
    assert f"deleted: backup.key, {KEY_FILE}, {REPLICA_FILE}, {REPLICA_FILE}-shm, {REPLICA_FILE}-wal\n" in text
    assert isinstance(error, DeviceRevoked) and error.code == "sync.device_revoked"
    assert error.details["revoked_at"] == "2026-11-24T08:00:00+00:00" and "delete that file" in error.message


def test_a_wiped_home_refuses_every_later_open_and_finishes_a_cut_short_wipe(tmp_path):
    home = _device_home(tmp_path / "tablet")
    wipe(home, device_id="dev-1", reason="sync.device_revoked", revoked_at=None)
    first = (home / MARKER).read_text(encoding="utf-8")
    (home / KEY_FILE).write_bytes(b"left behind by a crash")  # as if deleting had been interrupted
    with pytest.raises(DeviceRevoked):
        refuse_if_revoked(home)
    assert not (home / KEY_FILE).exists()
    with pytest.raises(DeviceRevoked) as refused:
        EdgeClient(home)
    assert "revoked" in refused.value.message
    with pytest.raises(DeviceRevoked):
        EdgeClient.enroll(home, server_url="http://127.0.0.1:9", site_id="WH1", device_name="平板",
                          enrollment_code="AAAA-BBBB-CCCC-DDDD")
    assert not (home / REPLICA_FILE).exists() and not (home / KEY_FILE).exists()
    wipe(home, device_id="dev-1", reason="again", revoked_at=None)
    assert (home / MARKER).read_text(encoding="utf-8") == first  # the first explanation stays


def test_a_home_without_the_marker_opens(tmp_path):
    refuse_if_revoked(tmp_path / "never-made")
    EdgeClient(tmp_path / "fresh").close()
