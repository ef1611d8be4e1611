"""Idle: how many idle live connections one server process holds, and what each one costs.

What it measures: one server process (``server.process.ServerProcess``, one worker) on
127.0.0.1 holding 2,000 idle live streams (``GET /sync/v1/live``, server-sent events; quick:
200), one per enrolled device, on SQLite and on PostgreSQL:

- connections held: streams that, after all were open (and, at full size, after a keep-alive
  period), still deliver a change to their device;
- the server's RSS with every stream open (the sum of VmRSS of the server process and its
  children), against the same server with none open;
- RSS per connection: the growth divided by the streams; its baseline is the same quotient
  over the first tenth of the streams, so a ratio near 1 says each stream costs the same.

How: a fresh server and database per backend; a site with one item and location through the
HQ API; the devices are enrolled over HTTP with one-time codes from HQ. The server's RSS is read (median of five samples,
0.2 s apart) with no stream open, after the first tenth is open and after all are open. The
streams are opened from the bench process with asyncio (``httpx.AsyncClient``, 50 at a time),
each with its own device's token and the protocol's version parameters; a stream counts as open
when its ``hello`` event arrives. Both ends need a file descriptor per stream: the bench
raises its soft limit on open files to the hard limit first, and the server does the same at
startup (``server.cli.raise_open_files_limit``). At full size the streams then stay idle for
17 s, longer than the server's 15 s keep-alive period, and each must have received a
keep-alive comment.
Then the server's ``/health`` must report exactly that many live connections, another device
of the site pushes one receipt, and every stream must deliver a ``change`` event with that
push's version or later, within 60 s. The time from sending the push to the last delivery is
kept in the JSON (it includes the bench process reading every stream).

PostgreSQL runs in a database of its own (``jcerp_bench_<random>``), dropped afterwards; the
change reaches the server's subscribers through ``pg_notify``/``LISTEN`` there.

Baseline (same run, same server): its RSS with no stream open; connections held are set
against connections opened.

Target (spec): 2,000 idle live connections held by one server process (checked when at least
2,000 are opened).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    VERSIONS, Figure, MasterData, Session, Target, WireDevice, create_master_data, enroll_devices, enrollment_codes,
    postgres_database, process_tree_rss, running_server, skipped, sqlite_url,
)
from server.cli import raise_open_files_limit
from server.sync_api import KEEPALIVE_SECONDS

NAME = "idle"
TARGET_CONNECTIONS = 2_000
CONNECTIONS = (TARGET_CONNECTIONS, 200)  # full, quick
TARGET = Target(">=", TARGET_CONNECTIONS, "connections", "≥ 2,000 idle live connections per server process")
OPENING_AT_ONCE = 50
OPEN_TIMEOUT = 60.0
DELIVERY_TIMEOUT = 60.0


@dataclass
class Stream:
    """What the bench has seen on one device's live stream."""

    device: WireDevice
    opened: asyncio.Event = field(default_factory=asyncio.Event)  # its hello arrived, or it failed
    keep_alives: int = 0
    changed_at: float | None = None  # when a change at or above the awaited version arrived
    error: BaseException | None = None


class Fanout:
    """Counts the streams that have announced the awaited version."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.awaited: int | None = None
        self.delivered = 0
        self.all_delivered = asyncio.Event()

    def note(self, stream: Stream, event: str, version: int) -> None:
        if (event == "change" and self.awaited is not None and version >= self.awaited
                and stream.changed_at is None):
            stream.changed_at = time.perf_counter()
            self.delivered += 1
            if self.delivered == self.expected:
                self.all_delivered.set()


async def follow(http: httpx.AsyncClient, stream: Stream, fanout: Fanout) -> None:
    """Read one live stream until cancelled, parsing events as a device must (per blank line)."""
    headers = {"accept": "text/event-stream"}
    try:
        async with http.stream("GET", "/sync/v1/live", params=VERSIONS, headers=headers,
                               auth=stream.device.auth) as response:
            if response.status_code != 200:
                await response.aread()
                raise RuntimeError(f"live stream refused: {response.status_code} {response.text[:200]}")
            event, data = None, ""
            async for line in response.aiter_lines():
                if not line:
                    if event in ("hello", "change") and data.isdigit():
                        fanout.note(stream, event, int(data))
                        stream.opened.set()
                    event, data = None, ""
                elif line.startswith(":"):
                    stream.keep_alives += 1
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
            raise RuntimeError("the server ended the live stream")
    except Exception as error:  # kept per stream: the count of held streams must see it
        stream.error = error
        stream.opened.set()


def steady_rss(pid: int, samples: int = 5, pause: float = 0.2) -> int:
    values = []
    for _ in range(samples):
        values.append(process_tree_rss(pid))
        time.sleep(pause)
    return int(statistics.median(values))


async def open_streams(http: httpx.AsyncClient, streams: list[Stream], fanout: Fanout,
                       tasks: list[asyncio.Task]) -> None:
    gate = asyncio.Semaphore(OPENING_AT_ONCE)

    async def one(stream: Stream) -> None:
        async with gate:
            tasks.append(asyncio.create_task(follow(http, stream, fanout)))
            try:
                await asyncio.wait_for(stream.opened.wait(), OPEN_TIMEOUT)
            except asyncio.TimeoutError:
                stream.error = TimeoutError(f"no hello event within {OPEN_TIMEOUT:.0f} s")

    await asyncio.gather(*(one(stream) for stream in streams))
    failed = [s for s in streams if s.error is not None]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(streams)} live streams failed to open, "
                           f"first: {type(failed[0].error).__name__}: {failed[0].error}")


async def hold(session: Session, backend: str, base_url: str, pid: int, master: MasterData, codes: list[str],
               idle_seconds: float) -> dict[str, Any]:
    """Enroll a device per code, open the live streams of all but the first, which writes."""
    count = len(codes) - 1
    limits = httpx.Limits(max_connections=count + 16, max_keepalive_connections=16)
    # No read timeout: an idle stream is silent for a whole keep-alive period.
    timeout = httpx.Timeout(60.0, read=None)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as http:
        session.log(f"idle/{backend}: enrolling {count + 1:,} devices")
        devices = await enroll_devices(http, master.site_id, codes, name="基准平板")
        writer, listeners = devices[0], devices[1:]
        await writer.pull_until_caught_up(http)
        rss = {"none": await asyncio.to_thread(steady_rss, pid)}

        streams = [Stream(device) for device in listeners]
        fanout = Fanout(count)
        tasks: list[asyncio.Task] = []
        tenth = max(count // 10, 1)
        try:
            session.log(f"idle/{backend}: opening {count:,} live streams")
            started = time.perf_counter()
            await open_streams(http, streams[:tenth], fanout, tasks)
            rss["tenth"] = await asyncio.to_thread(steady_rss, pid)
            await open_streams(http, streams[tenth:], fanout, tasks)
            opening_seconds = time.perf_counter() - started
            rss["all"] = await asyncio.to_thread(steady_rss, pid)
            if idle_seconds:
                session.log(f"idle/{backend}: holding them idle for {idle_seconds:.0f} s")
                await asyncio.sleep(idle_seconds)
            health = (await http.get("/health")).json()

            # Nothing else writes now, so any version above the writer's cursor is its push. Set
            # before sending: the server publishes before it answers, and streams may read the
            # change before this task sees the answer.
            fanout.awaited = writer.cursor + 1
            pushed = time.perf_counter()
            answer = await writer.push_receipts(http, master.item_ids, master.location_ids, 1)
            if answer.server_version < fanout.awaited:
                raise AssertionError(f"the push committed version {answer.server_version}, "
                                     f"not above the writer's cursor {writer.cursor}")
            try:
                await asyncio.wait_for(fanout.all_delivered.wait(), DELIVERY_TIMEOUT)
            except asyncio.TimeoutError:
                pass
            rss["after_change"] = await asyncio.to_thread(steady_rss, pid)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    delivered = [s for s in streams if s.changed_at is not None]
    broken = [s for s in streams if s.error is not None]
    without_keep_alive = sum(1 for s in streams if s.keep_alives == 0)
    if health.get("live_connections") != count:
        raise AssertionError(f"/health reports {health.get('live_connections')} live connections, "
                             f"{count} were opened")
    if idle_seconds and without_keep_alive:
        raise AssertionError(f"{without_keep_alive} streams saw no keep-alive in {idle_seconds:.0f} s idle")
    return {
        "opened": count, "held": len(delivered), "broken": len(broken),
        "health_live_connections": health.get("live_connections"),
        "rss": rss, "tenth": tenth, "opening_seconds": opening_seconds,
        "delivery_ms": round((max(s.changed_at for s in delivered) - pushed) * 1000, 3) if delivered else None,
        "idle_seconds": idle_seconds, "streams_without_keep_alive": without_keep_alive,
        "first_error": f"{type(broken[0].error).__name__}: {broken[0].error}" if broken else None,
    }


def measure(session: Session, backend: str, db_url: str, work: Path, count: int,
            idle_seconds: float) -> dict[str, Any]:
    with running_server(db_url, work / "server.log") as server:
        master = create_master_data(server)
        codes = enrollment_codes(server, master.site_id, count + 1)
        result = asyncio.run(hold(session, backend, server.url, server.process.pid, master, codes, idle_seconds))
    rss = result["rss"]
    session.log(f"idle/{backend}: {result['held']:,} of {count:,} streams delivered the change "
                f"(in {result['delivery_ms']} ms); server RSS {rss['none'] / 2**20:.1f} MiB with none, "
                f"{rss['all'] / 2**20:.1f} MiB with all")
    return result


def _figures(backend: str, result: dict[str, Any]) -> list[Figure]:
    count, rss = result["opened"], result["rss"]
    per_connection = (rss["all"] - rss["none"]) / count / 1024
    per_connection_tenth = (rss["tenth"] - rss["none"]) / result["tenth"] / 1024
    details = {key: result[key] for key in ("opened", "held", "broken", "health_live_connections", "tenth",
                                            "delivery_ms", "idle_seconds", "streams_without_keep_alive",
                                            "first_error")}
    details.update(opening_seconds=round(result["opening_seconds"], 2),
                   rss_mib={name: round(value / 2**20, 2) for name, value in rss.items()})
    return [
        Figure(NAME, "idle live connections held (each delivered a change)", backend, "connections",
               result["held"], baseline_name="connections opened", baseline_value=count,
               target=TARGET if count >= TARGET_CONNECTIONS else None, details=details),
        Figure(NAME, f"server RSS with {count:,} idle live connections", backend, "MiB", rss["all"] / 2**20,
               baseline_name="no connection", baseline_value=rss["none"] / 2**20, details=details),
        Figure(NAME, "RSS per idle live connection", backend, "KiB", per_connection,
               baseline_name=f"same over the first {result['tenth']:,}", baseline_value=per_connection_tenth,
               details=details),
    ]


def run(session: Session) -> list[Figure]:
    count = session.size("connections", *CONNECTIONS)
    idle_seconds = 0.0 if session.quick else KEEPALIVE_SECONDS + 2
    limit = raise_open_files_limit()
    session.log(f"idle: open-files limit {limit:,}")
    work = session.scratch(f"{NAME}/sqlite")
    figures = _figures("SQLite", measure(session, "SQLite", sqlite_url(work / "server.db"), work, count, idle_seconds))
    reason = session.postgres_unavailable()
    if reason is not None:
        return figures + [skipped(NAME, "idle live connections held (each delivered a change)", "PostgreSQL",
                                  "connections", reason, TARGET if count >= TARGET_CONNECTIONS else None)]
    with postgres_database(session.pg_url) as (server_url, _dsn):
        work = session.scratch(f"{NAME}/postgres")
        figures += _figures("PostgreSQL", measure(session, "PostgreSQL", server_url, work, count, idle_seconds))
    return figures
