"""The end-of-run audit of a crash trial or a fleet simulation: nothing lost, nothing twice.

Inputs are what the devices report about themselves (``status`` and ``verify`` of
``faults.device_process``), what the driver saw committed, and what the server shows through
the HQ API. Nothing here reads a database directly, so the audit is the same on SQLite and
PostgreSQL and checks the API a real HQ would use.

What it checks, per device:
- nothing lost: every mutation the device made (its sequence counter) was processed by the
  server (``last_applied_seq``), and every mutation the driver saw committed has all its stock
  moves in the server's ledger, or was rejected, with the rejection listed at HQ;
- nothing twice: no (device, seq) has more moves than the mutation creates, no move belongs to a
  sequence the device never made, and no mutation both applied and was rejected;
- the device has nothing pending and its replica's scope checksum equals the server's;
- every rejection HQ lists for the device is in the device's replica (its inbox), and back.
And for the server: on-hand per (item, location) equals the sum of the ledger's moves.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx


@dataclass
class DeviceFacts:
    name: str
    status: dict[str, Any]  # the device's ``status`` event
    verify: dict[str, Any]  # the device's ``verified`` event
    committed: dict[int, dict[str, Any]]  # seq → ``committed`` event the driver saw


@dataclass
class AuditResult:
    devices: int = 0
    mutations_made: int = 0
    committed_seen: int = 0
    applied: int = 0
    rejected: int = 0
    moves: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    checksum_mismatches: list[str] = field(default_factory=list)
    ledger_mismatches: list[str] = field(default_factory=list)
    rejections_not_on_device: list[str] = field(default_factory=list)
    rejections_not_at_hq: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [*self.lost, *self.duplicated, *self.pending, *self.checksum_mismatches, *self.ledger_mismatches,
                *self.rejections_not_on_device, *self.rejections_not_at_hq]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> dict[str, Any]:
        return {"devices": self.devices, "mutations_made": self.mutations_made, "committed_seen": self.committed_seen,
                "applied": self.applied, "rejected": self.rejected, "moves": self.moves,
                "lost": len(self.lost), "duplicated": len(self.duplicated), "pending": len(self.pending),
                "checksum_mismatches": len(self.checksum_mismatches),
                "ledger_mismatches": len(self.ledger_mismatches),
                "rejections_not_on_device": len(self.rejections_not_on_device),
                "rejections_not_at_hq": len(self.rejections_not_at_hq), "problems": self.problems[:20]}


def _all_moves(hq: httpx.Client) -> list[dict[str, Any]]:
    moves: list[dict[str, Any]] = []
    after = None
    while True:
        page = hq.get("/api/v1/movements", params={"limit": 1000, **({"after": after} if after else {})})
        page.raise_for_status()
        body = page.json()
        moves += body["items"]
        after = body["next_after"]
        if after is None:
            return moves


def audit(hq: httpx.Client, devices: list[DeviceFacts]) -> AuditResult:
    """``hq``: a client of the server's HQ API, signed in with the right to read every site."""
    result = AuditResult(devices=len(devices))
    with hq:
        moves = _all_moves(hq)
        on_hand = hq.get("/api/v1/on-hand").json()
        server_devices = {d["id"]: d for d in hq.get("/api/v1/devices").json()}
        rejections = hq.get("/api/v1/rejections").json()
    result.moves = len(moves)

    moves_by_id = {m["id"]: m for m in moves}
    moves_per_mutation = Counter((m["device_id"], m["seq"]) for m in moves if m["device_id"])
    rejected_at_hq: dict[str, set[int]] = defaultdict(set)
    for rejection in rejections:
        rejected_at_hq[rejection["device_id"]].add(rejection["seq"])

    for device in devices:
        status, name = device.status, device.name
        device_id, made = status["device_id"], status["made"]
        result.mutations_made += made
        result.committed_seen += len(device.committed)
        server_seq = server_devices.get(device_id, {}).get("last_applied_seq", 0)
        if server_seq != made:
            result.lost.append(f"{name}: made {made} mutations, the server processed {server_seq}")
        if status["pending"] or status["last_applied_seq"] != made:
            result.pending.append(f"{name}: {status['pending']} pending, device saw {status['last_applied_seq']} "
                                  f"of {made} processed")
        if not device.verify.get("matches"):
            result.checksum_mismatches.append(f"{name}: replica differs from the server in "
                                              f"{device.verify.get('differing')} (comparable: "
                                              f"{device.verify.get('comparable')})")
        if status.get("ledger_mismatches"):
            result.ledger_mismatches.append(f"{name}: {status['ledger_mismatches']} on-hand rows differ from "
                                            "the replica's ledger")
        hq_rejected = rejected_at_hq.get(device_id, set())
        device_rejected = set(status["rejected_seqs"])
        result.rejected += len(hq_rejected)
        result.rejections_not_on_device += [f"{name}: rejection of #{seq} is not on the device"
                                            for seq in sorted(hq_rejected - device_rejected)]
        result.rejections_not_at_hq += [f"{name}: rejection of #{seq} is on the device only"
                                        for seq in sorted(device_rejected - hq_rejected)]
        for seq, event in sorted(device.committed.items()):
            present = [move_id for move_id in event["moves"] if move_id in moves_by_id]
            if seq in hq_rejected:
                if present:
                    result.duplicated.append(f"{name}: #{seq} was rejected and applied")
                continue
            if len(present) != len(event["moves"]):
                result.lost.append(f"{name}: #{seq} {event['mutation']} committed on the device, "
                                   f"{len(event['moves']) - len(present)} move(s) missing at the server")
                continue
            result.applied += 1
            if moves_per_mutation[(device_id, seq)] != len(event["moves"]):
                result.duplicated.append(f"{name}: #{seq} has {moves_per_mutation[(device_id, seq)]} moves, "
                                         f"expected {len(event['moves'])}")
        for (move_device, seq), count in moves_per_mutation.items():
            if move_device != device_id:
                continue
            if seq > made:
                result.duplicated.append(f"{name}: moves for #{seq}, which the device never made")
            elif seq not in device.committed and count > 2:
                result.duplicated.append(f"{name}: #{seq} has {count} moves")

    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for move in moves:
        sums[(move["item_id"], move["location_id"])] += Decimal(move["quantity"])
    balances = {(row["item_id"], row["location_id"]): Decimal(row["quantity"]) for row in on_hand}
    for key in sums.keys() | balances.keys():
        if sums.get(key, Decimal(0)) != balances.get(key, Decimal(0)):
            result.ledger_mismatches.append(f"server: on-hand of {key} is {balances.get(key)}, "
                                            f"its moves sum to {sums.get(key)}")
    return result
