"""A device as its own OS process, driven line by line: ``python -m faults.device_process --home DIR``.

The crash trials kill these processes with SIGKILL and start new ones on the same replica; the
fleet simulation runs a hundred of them. Each reads one JSON command per line on stdin and
writes JSON events, one per line, on stdout:

| command | what it does | events |
|---|---|---|
| ``{"op": "enroll", "server", "site", "name", "code"}`` | enroll this replica (once) with a one-time code | ``enrolled`` |
| ``{"op": "work", "count", "seed", "at", "step_seconds"}`` | make ``count`` warehouse actions (``faults.traffic``), the n-th at ``at + n × step_seconds`` | ``committed`` per action, after its local commit; ``refused`` when the device refuses it on the spot (nothing queued) |
| ``{"op": "sync", "chunk_rows", "page_rows"}`` | bootstrap if needed (chunks of ``chunk_rows``), push, pull (pages of about ``page_rows``) | ``phase`` / ``phase_end`` around each part |
| ``{"op": "status"}`` | pending work, sequences, rejections seen, local ledger check | ``status`` |
| ``{"op": "verify"}`` | compare the replica's scope checksum with the server's | ``verified`` |
| ``{"op": "exit"}`` | close the replica and stop | |

Every command ends with ``{"event": "done", "id": …}`` or ``{"event": "error", "id": …,
"transient": bool}``; ``transient`` errors (server unreachable, 5xx) are worth retrying.

Invariants:
- A ``committed`` event is written only after the mutation's local transaction committed, so
  whatever a driver saw committed must reach the server exactly once; a process killed before
  writing it may or may not have committed (the replica says which, by its next sequence).
- The process holds no state that is not in the replica: a new process on the same home
  carries on where a killed one stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from edge_client.client import EdgeClient, NotEnrolled, SyncReport
from edge_client.replica import get_meta
from edge_client.transport import HttpTransport, ServerRefused, Unreachable
from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import stock_moves
from faults.traffic import Catalog, WarehouseTraffic
from sync.builtin import sync_rejections
from sync.errors import MutationRejected


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def is_transient(error: Exception) -> bool:
    return isinstance(error, Unreachable) or (isinstance(error, ServerRefused) and error.status >= 500)


def ledger_mismatches(client: EdgeClient) -> int:
    """(item, location) pairs whose on-hand is not the sum of their moves in the replica."""
    with client.engine.begin() as conn:
        sums: dict[tuple[str, str], Decimal] = {}
        query = select(stock_moves.c.item_id, stock_moves.c.location_id, stock_moves.c.quantity).where(
            stock_moves.c.site_id == client.identity.site_id)
        for item_id, location_id, quantity in conn.execute(query):
            sums[(item_id, location_id)] = sums.get((item_id, location_id), Decimal(0)) + quantity
        balances = {(r.item_id, r.location_id): r.quantity for r in conn.execute(
            select(on_hand).where(on_hand.c.site_id == client.identity.site_id))}
    keys = sums.keys() | balances.keys()
    return sum(1 for key in keys if sums.get(key, Decimal(0)) != balances.get(key, Decimal(0)))


class DeviceProcess:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.client: EdgeClient | None = None
        self.catalog: Catalog | None = None
        if (home / "replica.db").exists():
            client = EdgeClient(home)
            try:
                client.identity  # a killed enrollment may have left a replica without an identity
                self.client = client
            except NotEnrolled:
                client.close()

    def _client(self) -> EdgeClient:
        if self.client is None:
            raise RuntimeError("not enrolled")
        return self.client

    def enroll(self, command: dict[str, Any]) -> dict[str, Any]:
        if self.client is None:
            self.client = EdgeClient.enroll(self.home, server_url=command["server"], site_id=command["site"],
                                            device_name=command["name"], enrollment_code=command["code"],
                                            transport=HttpTransport(command["server"], timeout=60.0))
        return {"event": "enrolled", "device_id": self.client.identity.device_id}

    def work(self, command: dict[str, Any]) -> None:
        client = self._client()
        if self.catalog is None:
            with client.engine.begin() as conn:
                self.catalog = Catalog.from_replica(conn, client.identity.site_id)
        start = datetime.fromisoformat(command["at"])
        step = timedelta(seconds=float(command.get("step_seconds", 1.0)))
        made = 0

        def clock() -> datetime:
            return start + made * step

        def stock(item_id: str, location_id: str) -> Decimal:
            with client.engine.begin() as conn:
                quantity = conn.execute(select(on_hand.c.quantity).where(
                    on_hand.c.item_id == item_id, on_hand.c.location_id == location_id)).scalar()
            return quantity or Decimal(0)

        traffic = WarehouseTraffic(self.catalog, int(command["seed"]), clock, stock)
        for made in range(int(command["count"])):
            action = traffic.next()
            try:
                seq = client.run(action.mutation, action.args)
            except MutationRejected as refusal:  # refused on the spot, as the user would see it: nothing queued
                emit({"event": "refused", "id": command.get("id"), "code": refusal.code, **action.describe()})
                continue
            emit({"event": "committed", "id": command.get("id"), "seq": seq, **action.describe()})

    def sync(self, command: dict[str, Any]) -> dict[str, Any]:
        client = self._client()
        report = SyncReport()
        for phase in ("bootstrap", "push", "pull"):
            if phase == "bootstrap" and client.bootstrapped:
                continue
            emit({"event": "phase", "id": command.get("id"), "phase": phase})
            if phase == "bootstrap":
                report.bootstrapped_rows = client.bootstrap(chunk_rows=int(command.get("chunk_rows", 20000)))
            elif phase == "push":
                client.push(report)
            else:
                client.pull(report, page_rows=int(command.get("page_rows", 5000)))
            emit({"event": "phase_end", "id": command.get("id"), "phase": phase})
        return {"event": "synced", "report": vars(report)}

    def status(self, command: dict[str, Any]) -> dict[str, Any]:
        client = self._client()
        status = client.status()
        with client.engine.begin() as conn:
            next_seq = int(get_meta(conn, "next_seq", "1"))
            rejected = sorted(conn.execute(select(sync_rejections.c.seq).where(
                sync_rejections.c.device_id == status.device_id)).scalars())
            moves = conn.execute(select(func.count()).select_from(stock_moves)).scalar_one()
        return {"event": "status", "device_id": status.device_id, "site_id": status.site_id,
                "made": next_seq - 1, "pending": status.pending, "last_applied_seq": status.last_applied_seq,
                "cursor": status.cursor, "bootstrapped": status.bootstrapped, "rejected_seqs": rejected,
                "moves": moves, "ledger_mismatches": ledger_mismatches(client)}

    def verify(self, command: dict[str, Any]) -> dict[str, Any]:
        report = self._client().verify()
        return {"event": "verified", "comparable": report.comparable, "matches": report.matches,
                "differing": report.differing, "pending": report.pending, "cursor": report.local_cursor,
                "server_version": report.server_version}

    def handle(self, command: dict[str, Any]) -> bool:
        op = command.get("op")
        if op == "exit":
            return False
        try:
            handler = {"enroll": self.enroll, "work": self.work, "sync": self.sync, "status": self.status,
                       "verify": self.verify}[op]
            answer = handler(command)
            if answer:
                emit({**answer, "id": command.get("id")})
            emit({"event": "done", "id": command.get("id"), "op": op})
        except Exception as error:  # reported to the driver, which decides whether to retry
            emit({"event": "error", "id": command.get("id"), "op": op, "transient": is_transient(error),
                  "error": f"{type(error).__name__}: {error}"})
        return True

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults.device_process", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(encoding="utf-8")
    device = DeviceProcess(args.home)
    emit({"event": "ready", "enrolled": device.client is not None})
    try:
        for line in sys.stdin:
            if line.strip() and not device.handle(json.loads(line)):
                break
    finally:
        device.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
