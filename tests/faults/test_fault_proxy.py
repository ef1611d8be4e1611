"""The fault proxy against a tiny local HTTP/1.1 server: each fault kind happens as described
and is logged, clean traffic passes unchanged over keep-alive connections, streams pass through
live, and the same seed gives the same faults for the same requests."""

from __future__ import annotations

import threading
import time
from dataclasses import astuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import httpx
import pytest

from faults import Fault, FaultPlan, FaultProxy, Schedule


class _Recorder(BaseHTTPRequestHandler):
    """Answers every complete request with its path and how often that path arrived."""

    protocol_version = "HTTP/1.1"  # keep-alive, so the proxy's connection reuse is exercised
    seen: list[tuple[str, bytes, int]]  # (path, body, client port), in arrival order
    lock: threading.Lock

    def log_message(self, *_: object) -> None:  # keep test output clean
        pass

    def _record(self, body: bytes) -> int:
        with self.lock:
            self.seen.append((self.path, body, self.client_address[1]))
            return sum(1 for path, _, _ in self.seen if path == self.path)

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self._record(b"")
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"alpha-", b"beta-", b"gamma"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/stream":
            self._record(b"")
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for number in range(10000):  # an event every 2 ms until the client goes away
                    event = b"event: tick\ndata: %d\n\n" % number
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                    self.wfile.flush()
                    time.sleep(0.002)
            except OSError:
                pass
            self.close_connection = True
            return
        self._answer(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if len(body) < length:  # the request was cut: never treat it as received
            self.close_connection = True
            return
        self._answer(body)

    def _answer(self, body: bytes) -> None:
        count = self._record(body)
        payload = f"{self.path} #{count}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def upstream() -> Iterator[tuple[str, list]]:
    seen: list = []
    handler = type("Handler", (_Recorder,), {"seen": seen, "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _client(proxy: FaultProxy) -> httpx.Client:
    return httpx.Client(base_url=proxy.url, timeout=5)


def test_clean_traffic_passes_unchanged_over_one_kept_alive_connection(upstream):
    url, seen = upstream
    with FaultProxy(url, seed=1, plan=FaultPlan.quiet()) as proxy, _client(proxy) as client:
        answers = [client.post("/echo", content=b"x" * n).text for n in range(5)]
        assert client.get("/chunked").text == "alpha-beta-gamma"
    assert answers == [f"/echo #{n}" for n in range(1, 6)]
    assert [body for path, body, _ in seen if path == "/echo"] == [b"x" * n for n in range(5)]
    assert len({port for _, _, port in seen}) == 1  # the proxy reused its upstream connection
    assert [d.fault for d in proxy.log] == [Fault.NONE] * 6


def test_a_dropped_request_never_reaches_the_server(upstream):
    url, seen = upstream
    with FaultProxy(url, seed=1, plan=FaultPlan.only(Fault.DROP_REQUEST)) as proxy, _client(proxy) as client:
        with pytest.raises(httpx.TransportError):
            client.post("/push", content=b"payload")
    assert seen == []
    assert [d.fault for d in proxy.log] == [Fault.DROP_REQUEST]


def test_a_dropped_response_was_applied_but_never_heard(upstream):
    url, seen = upstream
    with FaultProxy(url, seed=1, plan=FaultPlan.only(Fault.DROP_RESPONSE)) as proxy, _client(proxy) as client:
        with pytest.raises(httpx.TransportError):
            client.post("/push", content=b"payload")
    assert [(path, body) for path, body, _ in seen] == [("/push", b"payload")]
    assert [d.fault for d in proxy.log] == [Fault.DROP_RESPONSE]


def test_a_duplicated_request_reaches_the_server_twice_and_answers_once(upstream):
    url, seen = upstream
    with FaultProxy(url, seed=1, plan=FaultPlan.only(Fault.DUPLICATE)) as proxy, _client(proxy) as client:
        assert client.post("/push", content=b"payload").text == "/push #2"  # the second answer
        assert client.post("/push", content=b"again").text == "/push #4"  # keep-alive still works
    assert [(path, body) for path, body, _ in seen] == [("/push", b"payload")] * 2 + [("/push", b"again")] * 2
    assert [d.fault for d in proxy.log] == [Fault.DUPLICATE] * 2


def test_a_delay_is_bounded_and_logged(upstream):
    url, _ = upstream
    with FaultProxy(url, seed=3, plan=FaultPlan.only(Fault.DELAY, max_delay=0.15)) as proxy, \
            _client(proxy) as client:
        for _ in range(5):
            started = time.monotonic()
            assert client.get("/x").status_code == 200
            elapsed = time.monotonic() - started
            decision = proxy.log[-1]
            assert decision.fault is Fault.DELAY and 0 <= decision.delay <= 0.15
            assert decision.delay - 0.01 <= elapsed < decision.delay + 1.0
    assert len({d.delay for d in proxy.log}) > 1  # drawn, not constant


def test_a_reordered_request_is_overtaken_by_a_later_one_on_another_connection(upstream):
    url, seen = upstream
    with FaultProxy(url, seed=1, plan=FaultPlan.quiet()) as proxy, _client(proxy) as second:
        # The overtaking client's connection is opened beforehand, so that it overtakes well
        # within the hold even on a busy machine.
        assert second.get("/warm-up").status_code == 200
        # A hold long enough for the overtaking request to arrive on a loaded machine; it ends
        # as soon as that request has been forwarded.
        proxy.schedule.plan = FaultPlan.only(Fault.REORDER, max_hold=2.0)
        answers: dict[str, int] = {}

        def first() -> None:
            with _client(proxy) as client:
                answers["first"] = client.get("/first").status_code

        thread = threading.Thread(target=first)
        thread.start()
        deadline = time.monotonic() + 5
        while len(proxy.log) < 2 and time.monotonic() < deadline:  # the first request is being held
            time.sleep(0.001)
        proxy.schedule.plan = FaultPlan.quiet()  # the second one passes straight through
        answers["second"] = second.get("/second").status_code
        thread.join(5)
    assert answers == {"first": 200, "second": 200}
    assert [path for path, _, _ in seen] == ["/warm-up", "/second", "/first"]
    assert [(d.fault, d.note) for d in proxy.log] == [(Fault.NONE, ""), (Fault.REORDER, "overtaken"),
                                                      (Fault.NONE, "")]


def test_a_request_cut_mid_body_is_never_received(upstream):
    url, seen = upstream
    with FaultProxy(url, seed=5, plan=FaultPlan.only(Fault.CUT_REQUEST)) as proxy, _client(proxy) as client:
        for _ in range(5):
            with pytest.raises(httpx.TransportError):
                client.post("/push", content=b"p" * 2000)
    assert seen == []
    assert [d.fault for d in proxy.log] == [Fault.CUT_REQUEST] * 5
    assert all(0 <= d.fraction < 1 for d in proxy.log)


@pytest.mark.parametrize("path", ["/echo", "/chunked"])
def test_a_response_cut_mid_body_was_applied_but_arrives_broken(upstream, path):
    url, seen = upstream
    with FaultProxy(url, seed=5, plan=FaultPlan.only(Fault.CUT_RESPONSE)) as proxy, _client(proxy) as client:
        for _ in range(3):
            with pytest.raises(httpx.TransportError):
                client.get(path)
    assert [p for p, _, _ in seen] == [path] * 3
    assert [d.fault for d in proxy.log] == [Fault.CUT_RESPONSE] * 3


def test_a_stream_passes_through_live_and_can_be_cut_mid_stream(upstream):
    url, seen = upstream
    with FaultProxy(url, seed=2, plan=FaultPlan.quiet()) as proxy, _client(proxy) as client:
        with client.stream("GET", "/stream") as response:
            lines = []
            for line in response.iter_lines():
                lines.append(line)
                if len(lines) >= 9:  # three events arrived while the stream is still open
                    break
        assert lines[:2] == ["event: tick", "data: 0"]
        proxy.schedule.plan = FaultPlan.only(Fault.CUT_RESPONSE)
        received = b""
        with pytest.raises(httpx.TransportError):
            with client.stream("GET", "/stream") as response:
                for part in response.iter_bytes():
                    received += part
        assert received.startswith(b"event: tick\ndata: 0")
        assert proxy.log[-1].fault is Fault.CUT_RESPONSE and "stream" in proxy.log[-1].note
        proxy.schedule.plan = FaultPlan.only(Fault.DROP_RESPONSE)
        with pytest.raises(httpx.TransportError):
            with client.stream("GET", "/stream") as response:
                response.read()
        assert proxy.log[-1].note  # an endless answer is closed after its head, and says so


def _run_mixed_traffic(url: str, seed: int) -> list[tuple]:
    """Forty requests, sequential and retried as a client would, under a busy plan."""
    plan = FaultPlan(drop_request=0.1, drop_response=0.1, duplicate=0.1, delay=0.1, cut=0.2, reorder=0.1,
                     max_delay=0.02, max_hold=0.02)
    with FaultProxy(url, seed=seed, plan=plan) as proxy, _client(proxy) as client:
        for number in range(40):
            try:
                client.post(f"/r{number % 4}", content=b"%d" % number)
            except httpx.TransportError:
                pass
        return [astuple(d)[:6] for d in proxy.log]


def test_the_same_seed_gives_the_same_faults_and_another_seed_other_ones(upstream):
    url, _ = upstream
    first = _run_mixed_traffic(url, seed=42)
    assert first == _run_mixed_traffic(url, seed=42)
    assert first != _run_mixed_traffic(url, seed=43)
    kinds = {fault for _, _, _, fault, _, _ in first}
    assert kinds == set(Fault)  # this seed exercises every kind at least once
    assert [index for index, *_ in first] == list(range(40))


def test_the_schedule_alone_is_deterministic_and_skips_undecided_exchanges():
    a = Schedule(7, FaultPlan(paths=("/sync/",)))
    b = Schedule(7, FaultPlan(paths=("/sync/",)))
    for number in range(50):
        if number == 10:
            a.enabled = False
            a.decide("POST", "/sync/v1/push")  # disabled: neither drawn nor logged
            a.enabled = True
        a.decide("GET", "/health")  # outside ``paths``: neither drawn nor logged
        a.decide("POST", "/sync/v1/push")
        b.decide("POST", "/sync/v1/push")
    assert [astuple(d) for d in a.log] == [astuple(d) for d in b.log]
    assert len(a.log) == 50
    assert "seed=7" in a.replay_text()
    with pytest.raises(ValueError):
        FaultPlan(drop_request=0.6, drop_response=0.6)
    with pytest.raises(ValueError):
        FaultPlan(max_delay=1.0)
    with pytest.raises(ValueError):
        FaultPlan(max_hold=2.5)
