"""Propagation: how soon a receipt made on one online device is visible on another.

What it measures: per sample, the time from calling ``A.run(inventory.receive ...)`` on device A
until device B's replica contains that stock move, with both devices online against one server
process (``server.process.ServerProcess``) on 127.0.0.1. A pushes at once (``A.push()`` right
after ``A.run``); B follows the server's live stream (``HttpTransport.live_events``, SSE) in a
thread and pulls (``B.pull()``) on every event, then looks the move up in its replica. The
sample ends when that lookup finds the move. 300 samples per backend (30 with ``--quick``)
after 10 warm-up samples (5), one at a time, 10 ms apart; reported as p50 and p99 (linear
interpolation between ranks). The p50 of each stage (local run, push round trip, live event
plus pull) is kept in the JSON.

Backends: SQLite (the server publishes after commit) and PostgreSQL (``pg_notify`` in the push
transaction, delivered at commit through ``LISTEN``), in a database of its own, dropped after.

Baseline (same run, same server): the round trip of ``GET /health`` on a kept-alive
connection, as many samples; the ratio is the overhead of propagation over a bare request.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    Figure, Session, Target, create_master_data, enrollment_codes, percentile, postgres_database, running_server,
    skipped, sqlite_url,
)
from edge_client.client import EdgeClient
from edge_client.device_key import DeviceSignature
from edge_client.transport import HttpTransport, ServerRefused, Unreachable
from erp.inventory.stock_move import Receive
from sync.ids import new_id

NAME = "propagation"
TARGETS = {
    "p50": Target("<=", 10.0, "ms", "p50 ≤ 10 ms"),
    "p99": Target("<=", 30.0, "ms", "p99 ≤ 30 ms"),
}
SAMPLE_TIMEOUT = 10.0
PAUSE = 0.010


class LiveFollower(threading.Thread):
    """Device B's side: pull on every live event, and note when the awaited move arrives."""

    def __init__(self, client: EdgeClient, base_url: str, token: str, signer: DeviceSignature) -> None:
        super().__init__(name="bench-live", daemon=True)
        self.client = client
        # A transport of its own: the stream holds its connection open while B pulls on another.
        self.transport = HttpTransport(base_url, token=token, signer=signer)
        self.lock = threading.Lock()
        self.awaited: str | None = None
        self.arrived = threading.Event()
        self.arrived_at = 0.0
        self.connected = threading.Event()
        self.error: BaseException | None = None
        self.stopping = False

    def expect(self, move_id: str) -> None:
        with self.lock:
            self.awaited = move_id
            self.arrived.clear()

    def _visible(self, move_id: str) -> bool:
        with self.client.engine.begin() as conn:
            return conn.exec_driver_sql("SELECT 1 FROM stock_moves WHERE id = ?", (move_id,)).first() is not None

    def run(self) -> None:
        try:
            for _version in self.transport.live_events():
                self.connected.set()
                if self.stopping:
                    return
                self.client.pull()
                with self.lock:
                    awaited = self.awaited
                if awaited is not None and self._visible(awaited):
                    self.arrived_at = time.perf_counter()
                    with self.lock:
                        self.awaited = None
                    self.arrived.set()
        except (Unreachable, ServerRefused) as error:
            if not self.stopping:
                self.error = error
        except BaseException as error:  # surface it to the main thread instead of dying silently
            self.error = error
        finally:
            self.arrived.set()

    def close(self) -> None:
        self.stopping = True
        self.transport.close()


def health_round_trips(base_url: str, samples: int, warmup: int) -> list[float]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        times = []
        for i in range(warmup + samples):
            started = time.perf_counter()
            client.get("/health").raise_for_status()
            if i >= warmup:
                times.append((time.perf_counter() - started) * 1000)
            time.sleep(PAUSE)
    return times


def measure(session: Session, backend: str, db_url: str, work: Path, samples: int, warmup: int) -> dict[str, Any]:
    with running_server(db_url, work / "server.log") as server:
        master = create_master_data(server)
        code_a, code_b = enrollment_codes(server, master.site_id, 2)
        a = EdgeClient.enroll(work / "a", server_url=server.url, site_id=master.site_id, device_name="平板A",
                              enrollment_code=code_a)
        b = EdgeClient.enroll(work / "b", server_url=server.url, site_id=master.site_id, device_name="平板B",
                              enrollment_code=code_b)
        follower = LiveFollower(b, server.url, b.transport.token, b.transport.signer)
        try:
            a.sync_once()
            b.sync_once()
            session.log(f"propagation/{backend}: baseline GET /health x {samples}")
            health = health_round_trips(server.url, samples, warmup)

            follower.start()
            if not follower.connected.wait(10):
                raise TimeoutError("device B's live stream did not open")
            session.log(f"propagation/{backend}: {samples} samples A.run -> A.push -> live event -> B.pull")
            total, local, push = [], [], []
            for i in range(warmup + samples):
                move_id = new_id()
                follower.expect(move_id)
                started = time.perf_counter()
                a.run("inventory.receive", Receive(
                    move_id=move_id, item_id=master.item_ids[0], location_id=master.location_ids[0],
                    quantity=Decimal(1), occurred_at=datetime.now(timezone.utc), reference=f"PO-{i:05d}"))
                ran = time.perf_counter()
                a.push()
                pushed = time.perf_counter()
                if not follower.arrived.wait(SAMPLE_TIMEOUT) or follower.error is not None:
                    raise RuntimeError(f"sample {i}: the move did not reach device B "
                                       f"({follower.error or f'no sign within {SAMPLE_TIMEOUT} s'})")
                if i >= warmup:
                    total.append((follower.arrived_at - started) * 1000)
                    local.append((ran - started) * 1000)
                    push.append((pushed - ran) * 1000)
                time.sleep(PAUSE)
        finally:
            follower.close()
            a.close()
            b.close()
    follower.join(5)
    delivery = [t - l - p for t, l, p in zip(total, local, push)]
    result = {
        "samples": samples,
        "p50": percentile(total, 50), "p99": percentile(total, 99),
        "health_p50": percentile(health, 50), "health_p99": percentile(health, 99),
        "stages_p50_ms": {"A.run (local)": round(percentile(local, 50), 3),
                          "A.push (round trip)": round(percentile(push, 50), 3),
                          "live event + B.pull": round(percentile(delivery, 50), 3)},
        "max_ms": round(max(total), 3), "min_ms": round(min(total), 3),
    }
    session.log(f"propagation/{backend}: p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms "
                f"(GET /health p50 {result['health_p50']:.2f} ms, p99 {result['health_p99']:.2f} ms); "
                f"stage p50s {result['stages_p50_ms']}")
    return result


def _figures(backend: str, result: dict[str, Any]) -> list[Figure]:
    details = {key: result[key] for key in ("samples", "stages_p50_ms", "min_ms", "max_ms")}
    return [
        Figure(NAME, f"{q} A.run → visible on B", backend, "ms", result[q],
               baseline_name=f"GET /health {q}", baseline_value=result[f"health_{q}"], target=TARGETS[q],
               details=details)
        for q in ("p50", "p99")
    ]


def run(session: Session) -> list[Figure]:
    samples = session.size("samples", 300, 30)
    warmup = 5 if session.quick else 10
    work = session.scratch(f"{NAME}/sqlite")
    figures = _figures("SQLite", measure(session, "SQLite", sqlite_url(work / "server.db"), work, samples, warmup))
    reason = session.postgres_unavailable()
    if reason is not None:
        figures += [skipped(NAME, f"{q} A.run → visible on B", "PostgreSQL", "ms", reason, TARGETS[q])
                    for q in ("p50", "p99")]
        return figures
    with postgres_database(session.pg_url) as (server_url, _dsn):
        figures += _figures("PostgreSQL", measure(session, "PostgreSQL", server_url,
                                                  session.scratch(f"{NAME}/postgres"), samples, warmup))
    return figures
