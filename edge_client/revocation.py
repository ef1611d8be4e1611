"""A device headquarters revoked wipes itself, and says so to whoever finds it empty.

When any sync request is answered with ``sync.device_revoked``, the client closes its replica
and calls ``wipe``: the replica database (with its ``-wal``, ``-shm`` and ``-journal`` files)
and the device's key files are deleted, and a small text file ``REVOKED`` is left in the home
with the time and the server's reason.

Invariants:
- ``REVOKED`` is written (atomically) before anything is deleted, so a wipe cut short by a
  crash or a power cut is finished by the next open: ``refuse_if_revoked`` deletes what is
  left, then refuses.
- A home holding ``REVOKED`` is never opened as a replica again: every ``EdgeClient`` on it
  (and ``jcerp edge init``) refuses with ``DeviceRevoked`` instead of creating a fresh, empty
  replica. Deleting the file by hand is the deliberate way to enroll the tablet again.
- Only the device's own files are touched (``SECRET_FILES``, ``SECRET_PATTERNS``), never
  anything else someone keeps in the same directory.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from edge_client.device_key import KEY_FILE
from edge_client.replica import REPLICA_FILE
from sync.errors import JcerpError

MARKER = "REVOKED"
SECRET_FILES = (REPLICA_FILE, f"{REPLICA_FILE}-wal", f"{REPLICA_FILE}-shm", f"{REPLICA_FILE}-journal", KEY_FILE)
# Other key files a device keeps beside its replica: the replica's data key (``data.key``, for
# personal fields) and any added later under these conventional names.
SECRET_PATTERNS = ("*.key", "*-key.pem", "*_key.pem")


class DeviceRevoked(JcerpError):
    """Headquarters revoked this device; its replica and keys are gone from this home."""

    code = "sync.device_revoked"
    http_status = 401


def _secret_files(home: Path) -> list[Path]:
    found = {home / name for name in SECRET_FILES if (home / name).exists()}
    for pattern in SECRET_PATTERNS:
        found.update(path for path in home.glob(pattern) if path.is_file())
    return sorted(found)


def _delete(paths: list[Path]) -> list[str]:
    removed = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path.name)
    return removed


def _refusal(home: Path, marker_text: str) -> DeviceRevoked:
    lines = dict(line.split(": ", 1) for line in marker_text.splitlines() if ": " in line)
    return DeviceRevoked(
        f"headquarters revoked this device (at {lines.get('revoked_at', 'an unknown time')}); it wiped its replica "
        f"and keys at {lines.get('wiped_at', 'an unknown time')} (see {home / MARKER}). To use this tablet again, "
        f"delete that file and enroll it with a new code from headquarters (jcerp edge init)",
        home=str(home), revoked_at=lines.get("revoked_at"), wiped_at=lines.get("wiped_at"),
        device_id=lines.get("device_id"))


def wipe(home: Path | str, *, device_id: str | None, reason: str, revoked_at: str | None) -> DeviceRevoked:
    """Delete the replica and keys in ``home``, leave ``REVOKED``, and return the error to raise.
    The caller has closed its replica first. A home wiped before keeps its first marker."""
    home = Path(home)
    marker = home / MARKER
    if not marker.exists():
        wiped_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        text = "\n".join((
            "此设备已被总部吊销，已自行删除本地数据和密钥。",
            "Headquarters revoked this device; it deleted its local data and keys itself.",
            f"wiped_at: {wiped_at}",
            f"revoked_at: {revoked_at or 'unknown'}",
            f"device_id: {device_id or 'unknown'}",
            f"reason: {' '.join(reason.split())}",
            f"deleted: {', '.join(path.name for path in _secret_files(home)) or 'nothing'}",
            "To use this tablet again, delete this file and enroll it with a new code (jcerp edge init).",
            "",
        ))
        draft = home / f".{MARKER}.tmp"
        draft.write_text(text, encoding="utf-8")
        os.replace(draft, marker)
    _delete(_secret_files(home))
    return _refusal(home, marker.read_text(encoding="utf-8"))


def refuse_if_revoked(home: Path | str) -> None:
    """Raise ``DeviceRevoked`` if ``home`` was wiped, finishing a wipe that was cut short."""
    home = Path(home)
    marker = home / MARKER
    if not marker.exists():
        return
    _delete(_secret_files(home))
    raise _refusal(home, marker.read_text(encoding="utf-8", errors="replace"))
