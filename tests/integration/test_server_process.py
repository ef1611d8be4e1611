"""The server as a real process on 127.0.0.1: live notifications reach devices, across workers
on PostgreSQL (LISTEN/NOTIFY) and SQLite (clock polling), and racing pushes of one batch apply
once. How fast a change travels is measured by bench/propagation.py, not asserted here."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from edge_client.client import EdgeClient
from edge_client.transport import HttpTransport, ServerRefused
from protocol import PROTOCOL_VERSION
from protocol.base import encode
from protocol.push import MutationEnvelope, PushRequest
from erp.inventory.stock_move import Receive
from server.process import ServerProcess
from sync.ids import new_id
from sync.schema import SCHEMA_VERSION
from tests.conftest import postgres_url
from tests.support import all_movements, build_world, enrollment_code, now, receive

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def process_db(request, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
    else:
        yield from postgres_url()


def _wait_for(predicate, timeout: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.005)
    return None


def _live_listener(edge: EdgeClient, seen: list[int], stop: threading.Event) -> threading.Thread:
    def listen() -> None:
        transport = HttpTransport(edge.transport.client.base_url.__str__(), token=edge.transport.token,
                                  signer=edge.transport.signer)
        try:
            for version in transport.live_events(timeout=30):
                seen.append(version)
                if stop.is_set():
                    return
        except Exception:  # the server going away ends the stream; the test checks what was seen
            return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("workers", [1, 2])
def test_every_change_reaches_a_live_device(process_db, tmp_path, workers):
    if workers > 1 and process_db.startswith("sqlite"):
        workers = 2  # SQLite workers share changes by polling the clock (twice a second)
    with ServerProcess(process_db, workers=workers, log_path=tmp_path / "server.log") as server:
        hq = server.hq_client(timeout=30)
        world = build_world(hq)
        a = EdgeClient.enroll(tmp_path / "a", server_url=server.url, site_id=world.site, device_name="A",
                              enrollment_code=enrollment_code(hq, world.site))
        b = EdgeClient.enroll(tmp_path / "b", server_url=server.url, site_id=world.site, device_name="B",
                              enrollment_code=enrollment_code(hq, world.site))
        a.sync_once()
        b.sync_once()
        seen: list[int] = []
        stop = threading.Event()
        _live_listener(b, seen, stop)
        assert _wait_for(lambda: seen, 30) is not None  # the 'hello' event
        for round_number in range(6):
            before = len(seen)
            receive(a, world, "1")
            a.push()
            # Generous bound: this checks delivery on a loaded 2-core machine, not speed.
            delay = _wait_for(lambda: len(seen) > before, 15.0)
            assert delay is not None, f"round {round_number}: no live event"
            b.pull()
        stop.set()
        with b.engine.begin() as conn:
            assert Decimal(conn.exec_driver_sql("SELECT quantity FROM on_hand").scalar()) == 6
        a.close()
        b.close()
        hq.close()


def test_racing_pushes_of_one_batch_on_two_workers_apply_each_mutation_once(process_db, tmp_path):
    with ServerProcess(process_db, workers=2, log_path=tmp_path / "server.log") as server:
        hq = server.hq_client(timeout=30)
        world = build_world(hq)
        a = EdgeClient.enroll(tmp_path / "a", server_url=server.url, site_id=world.site, device_name="A",
                              enrollment_code=enrollment_code(hq, world.site))
        envelopes = [
            MutationEnvelope(seq=seq, name="inventory.receive", version=1, hlc=f"{seq:015d}-00000-a",
                             args=msgspec.Raw(encode(Receive(move_id=new_id(), item_id=world.item,
                                                             location_id=world.location, quantity=Decimal(1),
                                                             occurred_at=now()))))
            for seq in range(1, 51)
        ]
        request = PushRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                              device_id=a.identity.device_id, mutations=envelopes)

        def push_once(_: int):
            transport = HttpTransport(server.url, token=a.transport.token, signer=a.transport.signer)
            try:
                return transport.push(request)
            finally:
                transport.close()

        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(push_once, range(6)))
        statuses = [result.status for answer in answers for result in answer.results]
        assert statuses.count("applied") == 50
        assert statuses.count("duplicate") == 250
        on_hand = hq.get("/api/v1/on-hand", params={"item_id": world.item}).json()
        assert Decimal(on_hand[0]["quantity"]) == 50
        moves = all_movements(hq)
        assert len(moves) == 50 and len({m["seq"] for m in moves}) == 50
        a.close()
        hq.close()


def test_a_device_keeps_working_while_the_server_process_is_killed(tmp_path):
    db = f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
    server = ServerProcess(db, log_path=tmp_path / "server.log").start()
    hq = server.hq_client(timeout=30)
    world = build_world(hq)
    a = EdgeClient.enroll(tmp_path / "a", server_url=server.url, site_id=world.site, device_name="A",
                              enrollment_code=enrollment_code(hq, world.site))
    a.sync_once()
    server.stop(kill=True)
    for _ in range(5):
        receive(a, world, "2")
    assert a.status().pending == 5
    server.start()
    a.sync_once()
    assert Decimal(hq.get("/api/v1/on-hand").json()[0]["quantity"]) == 10
    assert a.status().pending == 0
    server.stop()
    a.close()
    hq.close()


def test_an_unenrolled_token_is_refused_by_the_live_stream(tmp_path):
    with ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}") as server:
        transport = HttpTransport(server.url, token="nope")
        with pytest.raises(ServerRefused) as refused:
            next(transport.live_events())
        assert refused.value.status == 401
