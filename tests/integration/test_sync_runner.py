"""Continuous sync: the runner backs off while the server is unreachable, catches up when it
returns, reacts to local work at once, and stops for good on a refusal that needs a person."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from edge_client.runner import SyncRunner
from edge_client.state import Backoff, SyncState
from tests.support import receive


def _wait(predicate, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_the_runner_rides_out_an_outage_and_pushes_local_work_at_once(server, world, make_edge):
    edge = make_edge("a")
    edge.transport.online = False
    runner = SyncRunner(edge, poll_seconds=30, live=False, backoff=Backoff(base=0.05, cap=0.2))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        assert _wait(lambda: edge.state.state is SyncState.RETRYING)
        assert "unreachable" in (runner.last_error or "")
        receive(edge, world, "3")  # work goes on offline
        assert edge.status().pending == 1
        edge.transport.online = True
        assert _wait(lambda: edge.status().pending == 0)
        assert _wait(lambda: edge.state.state is SyncState.LIVE)
        # A new local mutation wakes the runner long before its 30 s poll.
        receive(edge, world, "2")
        assert _wait(lambda: edge.status().pending == 0, timeout=5)
        rows = server.get("/api/v1/on-hand", params={"item_id": world.item}).json()
        assert Decimal(rows[0]["quantity"]) == 5
        assert edge.status().state == "live"
    finally:
        runner.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_the_runner_stops_in_error_when_the_device_is_unknown(server, world, make_edge):
    edge = make_edge("a")
    edge.transport.token = "revoked-or-forged"
    receive(edge, world, "1")
    runner = SyncRunner(edge, live=False, backoff=Backoff(base=0.01, cap=0.05))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert edge.state.state is SyncState.ERROR
    assert runner.last_error.startswith("sync.unknown_device")
    assert edge.status().pending == 1  # nothing lost: the work waits for a person to act
