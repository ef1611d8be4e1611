"""An HTTP/1.1 TCP proxy that injects network faults on a seeded schedule.

``FaultProxy`` listens on 127.0.0.1 (an ephemeral port) in front of one upstream server and runs
its asyncio loop in a background thread, so synchronous tests use it like a server URL. Each
request/response exchange is decided by ``faults.schedule.Schedule`` and handled accordingly.

Invariants:
- HTTP is parsed only as far as framing needs: a head up to CRLFCRLF, then a body framed by
  ``Content-Length`` or chunked transfer-encoding (responses without either run until the
  upstream closes). Bytes are forwarded as received; nothing is rewritten.
- Each client connection gets its own upstream connection, reused for keep-alive; after a fault
  that closes the client connection, the upstream connection is closed too, so a half-sent
  request is never completed by a later one.
- A fault that must see a whole response (drop the response, duplicate the request) is never
  applied to an endless stream (``text/event-stream``): such a response is cut instead, or
  passed through, and the decision's ``note`` says so.
- Every decision is in ``log`` (the schedule's log) before its exchange is forwarded, so a
  failing run can be replayed with the same seed.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from faults.schedule import Decision, Fault, FaultPlan, Schedule

_HEAD_LIMIT = 64 * 1024
_STREAM_TYPES = (b"text/event-stream",)
_STREAM_CUT_BUDGET = 8 * 1024  # bytes of a chunked body within which a cut falls


class _Closed(Exception):
    """The peer closed the connection before a complete message."""


@dataclass
class _Message:
    head: bytes  # start line and headers, including the final CRLFCRLF
    body: bytes = b""
    start_line: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> bytes:
        return self.head + self.body

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def wants_close(self) -> bool:
        return "close" in self.header("connection").lower() or self.start_line.startswith("HTTP/1.0")


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            # Repeated headers are joined, as HTTP allows for list-valued ones.
            headers[name] = f"{headers[name]}, {value.strip()}" if name in headers else value.strip()
    return lines[0], headers


async def _read_head(reader: asyncio.StreamReader) -> _Message | None:
    """Read one message head; None on a clean EOF before any byte (an idle keep-alive close)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None
        raise _Closed("connection closed inside a message head") from error
    except asyncio.LimitOverrunError as error:
        raise _Closed("message head too large") from error
    start_line, headers = _parse_head(head)
    return _Message(head, start_line=start_line, headers=headers)


async def _read_exact(reader: asyncio.StreamReader, size: int) -> bytes:
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError as error:
        raise _Closed("connection closed inside a body") from error


async def _read_chunk(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
    """One chunk of a chunked body, raw (size line, data, CRLF); True if it was the last chunk
    (the zero-size chunk with its trailers)."""
    try:
        size_line = await reader.readuntil(b"\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
        raise _Closed("connection closed inside a chunk size") from error
    size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
    if size == 0:
        raw = size_line
        while True:  # trailers, up to the empty line
            try:
                line = await reader.readuntil(b"\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
                raise _Closed("connection closed inside trailers") from error
            raw += line
            if line == b"\r\n":
                return raw, True
    return size_line + await _read_exact(reader, size + 2), False


def _body_kind(message: _Message, *, request: bool, method: str = "") -> str:
    """How the body is framed: 'none', 'length', 'chunked' or 'eof' (until the peer closes)."""
    if not request:
        status = int(message.start_line.split(" ", 2)[1]) if " " in message.start_line else 0
        if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
            return "none"
    if "chunked" in message.header("transfer-encoding").lower():
        return "chunked"
    if message.header("content-length"):
        return "length"
    return "none" if request else "eof"


async def _read_body(reader: asyncio.StreamReader, message: _Message, kind: str) -> None:
    if kind == "length":
        message.body = await _read_exact(reader, int(message.header("content-length")))
    elif kind == "chunked":
        parts = []
        while True:
            raw, last = await _read_chunk(reader)
            parts.append(raw)
            if last:
                break
        message.body = b"".join(parts)
    elif kind == "eof":
        message.body = await reader.read()


def _is_stream(response: _Message) -> bool:
    return any(t in response.header("content-type").encode("latin-1").lower() for t in _STREAM_TYPES)


class _Upstream:
    """The upstream connection of one client connection, opened on first use."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, data: bytes) -> asyncio.StreamReader:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=_HEAD_LIMIT)
        self.writer.write(data)
        await self.writer.drain()
        return self.reader

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class FaultProxy:
    """A fault-injecting HTTP/1.1 proxy in a background thread.

    ``FaultProxy(upstream_url_or_host, port, seed=…, plan=…)``; use as a context manager or call
    ``start()``/``stop()``. ``url`` is what clients connect to. ``enabled`` switches faults on
    and off; ``log`` lists every decided exchange.
    """

    def __init__(self, upstream: str, upstream_port: int | None = None, *, seed: int = 0,
                 plan: FaultPlan | None = None, enabled: bool = True) -> None:
        if upstream_port is None:  # "http://host:port"
            hostport = upstream.split("://", 1)[-1].rstrip("/")
            upstream, _, port_text = hostport.rpartition(":")
            upstream_port = int(port_text)
        self.upstream_host = upstream
        self.upstream_port = upstream_port
        self.schedule = Schedule(seed, plan or FaultPlan(), enabled=enabled)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task] = set()
        self._forwarded = 0  # exchanges forwarded upstream so far; reordered requests wait for it to move
        self._forwarded_changed: asyncio.Condition | None = None

    # -- public API ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def seed(self) -> int:
        return self.schedule.seed

    @property
    def log(self) -> list[Decision]:
        return self.schedule.log

    @property
    def enabled(self) -> bool:
        return self.schedule.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self.schedule.enabled = value

    def start(self) -> "FaultProxy":
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._listen())
            except BaseException as error:  # reported to the starting thread below
                failure.append(error)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"fault-proxy-{self.seed}", daemon=True)
        self._thread.start()
        started.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def replay_text(self) -> str:
        """The seed, the plan and every fault applied: paste it into a failure message."""
        return self.schedule.replay_text()

    # -- the loop ------------------------------------------------------------------------

    async def _listen(self) -> None:
        self._forwarded_changed = asyncio.Condition()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=_HEAD_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _mark_forwarded(self) -> None:
        async with self._forwarded_changed:
            self._forwarded += 1
            self._forwarded_changed.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        upstream = _Upstream(self.upstream_host, self.upstream_port)
        try:
            while True:
                request = await _read_head(reader)
                if request is None:
                    return
                await _read_body(reader, request, _body_kind(request, request=True))
                if not await self._exchange(request, writer, upstream):
                    return
        except (_Closed, ConnectionError, OSError, ValueError):
            return  # either side went away, or sent what is not HTTP: nothing to forward any more
        except asyncio.CancelledError:
            return  # the proxy is stopping; ending quietly keeps asyncio from logging each open stream
        finally:
            upstream.close()
            writer.close()
            self._connections.discard(task)

    async def _exchange(self, request: _Message, client: asyncio.StreamWriter, upstream: _Upstream) -> bool:
        """Handle one request; True if the client connection stays open for the next one."""
        method, _, rest = request.start_line.partition(" ")
        decision = self.schedule.decide(method, rest.split(" ", 1)[0])
        fault = decision.fault

        if fault is Fault.DROP_REQUEST:
            return False
        if fault is Fault.DELAY:
            await asyncio.sleep(decision.delay)
        if fault is Fault.REORDER:
            await self._hold(decision)
        if fault is Fault.CUT_REQUEST:
            # At least one byte short of the whole request, so the server never sees it complete.
            await upstream.send(request.raw[:int(decision.fraction * len(request.raw))])
            return False

        up_reader = await upstream.send(request.raw)
        await self._mark_forwarded()
        response = await self._read_response_head(up_reader)
        kind = _body_kind(response, request=False, method=method)
        streaming = _is_stream(response)

        if fault is Fault.DUPLICATE:
            if streaming:
                decision.note = "sent once: the first answer never ends"
            else:
                await _read_body(up_reader, response, kind)  # the first answer is discarded
                if kind == "eof" or response.wants_close:
                    upstream.close()  # the server ends this connection: repeat on a new one
                up_reader = await upstream.send(request.raw)
                response = await self._read_response_head(up_reader)
                kind = _body_kind(response, request=False, method=method)
                streaming = _is_stream(response)

        if fault is Fault.DROP_RESPONSE:
            if streaming:
                decision.note = "closed after the head: the stream never ends"
            else:
                await _read_body(up_reader, response, kind)
            return False

        if fault is Fault.CUT_RESPONSE:
            await self._forward_cut(response, kind, up_reader, client, decision)
            return False

        await self._forward(response, kind, up_reader, client)
        return not (kind == "eof" or response.wants_close or request.wants_close)

    async def _read_response_head(self, up_reader: asyncio.StreamReader) -> _Message:
        response = await _read_head(up_reader)
        if response is None:
            raise _Closed("upstream closed before answering")
        if response.start_line.split(" ", 2)[1:2] == ["100"]:  # skip an interim answer
            return await self._read_response_head(up_reader)
        return response

    async def _hold(self, decision: Decision) -> None:
        """Wait until some other exchange has been forwarded, or ``max_hold`` has passed."""
        async with self._forwarded_changed:
            seen = self._forwarded
            try:
                await asyncio.wait_for(self._forwarded_changed.wait_for(lambda: self._forwarded > seen),
                                       self.schedule.plan.max_hold)
                decision.note = "overtaken"
            except asyncio.TimeoutError:
                decision.note = "nothing overtook it"

    async def _forward(self, response: _Message, kind: str, up_reader: asyncio.StreamReader,
                       client: asyncio.StreamWriter) -> None:
        """Pass the response through, chunk by chunk for chunked bodies (streams stay live)."""
        client.write(response.head)
        if kind == "chunked":
            while True:
                raw, last = await _read_chunk(up_reader)
                client.write(raw)
                await client.drain()
                if last:
                    return
        await _read_body(up_reader, response, kind)
        client.write(response.body)
        await client.drain()

    async def _forward_cut(self, response: _Message, kind: str, up_reader: asyncio.StreamReader,
                           client: asyncio.StreamWriter, decision: Decision) -> None:
        """Forward a part of the response, then let the caller close the connection.

        A sized body is cut at ``fraction`` of head plus body. A chunked body is streamed until
        ``fraction`` of an 8 KiB budget has passed; if it ends sooner, everything but its last
        chunk goes through, so the client always sees an unfinished body.
        """
        if kind != "chunked":
            await _read_body(up_reader, response, kind)
            raw = response.raw
            client.write(raw[:int(decision.fraction * len(raw))])
            await client.drain()
            return
        budget = int(decision.fraction * _STREAM_CUT_BUDGET)
        sent = 0
        client.write(response.head)
        while sent < budget:
            raw, last = await _read_chunk(up_reader)
            if last:
                decision.note = "cut before the last chunk"
                return
            take = raw[:budget - sent]
            client.write(take)
            await client.drain()
            sent += len(take)
        decision.note = f"cut after {sent} body bytes of a stream"
