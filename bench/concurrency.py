"""Concurrency: many devices syncing at the same time against one server process.

What it measures: devices online at once against one server process
(``server.process.ServerProcess``, one worker) on 127.0.0.1, on SQLite and on PostgreSQL. Each
device repeats a round: push 5 ``inventory.receive`` mutations, then pull from its cursor until
caught up (which brings back its own receipts and those of the other devices of its site). An
active device then pauses 5 s before its next round: a user recording about one receipt a
second, synced five at a time. Points:

- 1 device alone, rounds back to back: the uncontended round (the baseline);
- 10, 100, 200 and 500 active devices (quick: 200);
- 200 devices without the pause, back to back (not in quick): the server saturated, which
  shows its capacity in mutations/s and the queueing delay a device sees then.

Per point: total mutations/s (mutations whose push was answered within the measuring window,
divided by the window); p50 and p99 of one round (push sent → last pull page received) over
every round that started within the window; the server's RSS at peak (the sum of VmRSS of the
server process and its children, sampled every 100 ms from enrollment to the end of the run).

How: a fresh server and database per point, with 4 items and one site per 10 devices (a
warehouse and two locations each), made through the HQ API. The devices are enrolled over HTTP
with one-time codes from HQ and pull once (not timed); then each runs as an asyncio task in the bench process, with an
``httpx.AsyncClient`` (one connection) of its own, speaking the real wire protocol
(``bench.common.WireDevice``: MessagePack ``PushRequest``/``PullRequest`` as
``edge_client/transport.py`` sends them, arguments encoded as the device encodes them). They
keep no replica. Active devices start at random moments within the first pause, so rounds do
not march in step; the window (20 s, quick 3 s) opens after a warm-up of one pause plus 1 s
(0.5 s for points without the pause). Every push must come back fully applied with
``last_applied_seq`` at its last mutation, every cursor must only move forward, and afterwards
the server's ``last_applied_seq`` of every device must equal what it pushed.

The pause makes the active points a closed system with think time: when the server falls
behind, devices offer load more slowly, so the round time grows with the queue rather than
without bound. Below saturation the throughput of N active devices is N receipts/s.

The devices and the server share the machine's cores; the device side (httpx, encoding and
decoding) is part of every round time.

Baseline (same run, same kind of server): the 1-device point; the ratios are the slowdown of a
round under concurrency and the aggregate throughput against one device alone.

Target (spec): 200 active devices with push-plus-pull p99 ≤ 250 ms.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx

from bench.common import (
    Figure, MasterData, PeakRss, Session, Target, WireDevice, WireError, add_sites, create_master_data,
    enroll_devices, enrollment_codes, last_applied_seqs, percentile, postgres_database, running_server, skipped,
    sqlite_url,
)
from server.cli import raise_open_files_limit
from server.process import ServerProcess

NAME = "concurrency"
ACTIVE_DEVICE_COUNTS = (10, 100, 200, 500)
QUICK_ACTIVE_DEVICE_COUNTS = (200,)
TARGET_DEVICES = 200
P99_TARGET = Target("<=", 250.0, "ms", "200 active devices: p99 ≤ 250 ms")
RECEIPTS_PER_ROUND = 5
DEVICES_PER_SITE = 10
PAUSE_MS = 5000  # between an active device's rounds: about one receipt a second
WINDOW_SECONDS = (20, 3)  # full, quick


@dataclass(frozen=True)
class Point:
    devices: int
    pause_seconds: float
    label: str


# -- master data ------------------------------------------------------------------------------


def create_sites(server: ServerProcess, count: int) -> list[MasterData]:
    """``count`` sites sharing 4 items, each with a warehouse and two locations."""
    first = create_master_data(server, items=4, locations=2)
    return [first, *add_sites(server, first, count - 1)]


# -- the devices ------------------------------------------------------------------------------


@dataclass
class Round:
    started: float
    pushed: float  # when the push was answered
    ended: float  # when the last pull page was received
    mutations: int
    rows_pulled: int


@dataclass(frozen=True)
class Schedule:
    warm_up_ends: float
    window_ends: float
    pause_seconds: float


async def device_rounds(http: httpx.AsyncClient, device: WireDevice, master: MasterData, schedule: Schedule,
                        first_delay: float) -> list[Round]:
    """Rounds until the window ends; a round under way then is finished, none is started."""
    rounds = []
    await asyncio.sleep(first_delay)
    while time.perf_counter() < schedule.window_ends:
        started = time.perf_counter()
        await device.push_receipts(http, master.item_ids, master.location_ids, RECEIPTS_PER_ROUND)
        pushed = time.perf_counter()
        rows = await device.pull_until_caught_up(http)
        rounds.append(Round(started, pushed, time.perf_counter(), RECEIPTS_PER_ROUND, rows))
        if schedule.pause_seconds:
            await asyncio.sleep(min(schedule.pause_seconds, max(0.0, schedule.window_ends - time.perf_counter())))
    return rounds


async def drive(base_url: str, sites: list[tuple[MasterData, list[str]]], *, warm_up: float, window: float,
                pause_seconds: float) -> dict[str, Any]:
    """Enroll a device per enrollment code of each site, catch them up, run their rounds; the
    figures of the window."""
    timeout = httpx.Timeout(120.0)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as enrolling:
        placed: list[tuple[WireDevice, MasterData]] = []
        for master, codes in sites:
            for device in await enroll_devices(enrolling, master.site_id, codes, name="基准平板"):
                placed.append((device, master))
    count = len(placed)

    # A client (and connection) per device, as real devices have. One client shared by hundreds
    # of concurrent requests would make the bench the bottleneck: httpcore's pool rescans every
    # connection for every queued request, so its cost per request grows with the square of
    # the connections. The TLS context is shared because httpx builds one per client otherwise.
    tls = ssl.create_default_context()
    clients = [httpx.AsyncClient(base_url=base_url, timeout=timeout, verify=tls) for _ in placed]
    try:
        gate = asyncio.Semaphore(16)

        async def catch_up(http: httpx.AsyncClient, device: WireDevice) -> None:
            async with gate:
                await device.pull_until_caught_up(http)

        await asyncio.gather(*(catch_up(http, device) for http, (device, _) in zip(clients, placed)))

        rng = random.Random(count)  # the same start offsets on both backends
        now = time.perf_counter()
        schedule = Schedule(now + warm_up, now + warm_up + window, pause_seconds)
        stagger = max(pause_seconds, 0.05)
        per_device = await asyncio.gather(*(
            device_rounds(http, device, master, schedule, rng.uniform(0, stagger))
            for http, (device, master) in zip(clients, placed)))
        finished = time.perf_counter()
    finally:
        await asyncio.gather(*(http.aclose() for http in clients))

    rounds = [r for one_device in per_device for r in one_device]
    in_window = [r for r in rounds if schedule.warm_up_ends <= r.started < schedule.window_ends]
    if not in_window:
        raise RuntimeError(f"{count} devices: no round started within the {window:.0f} s window")
    times_ms = [(r.ended - r.started) * 1000 for r in in_window]
    push_ms = [(r.pushed - r.started) * 1000 for r in in_window]
    answered = sum(r.mutations for r in rounds if schedule.warm_up_ends <= r.pushed < schedule.window_ends)
    return {
        "devices": [device for device, _ in placed],
        "rate": answered / window,
        "p50": percentile(times_ms, 50), "p99": percentile(times_ms, 99),
        "push_p50_ms": round(percentile(push_ms, 50), 3), "push_p99_ms": round(percentile(push_ms, 99), 3),
        "max_ms": round(max(times_ms), 3),
        "rounds_in_window": len(in_window), "rounds_total": len(rounds),
        "mutations_total": sum(r.mutations for r in rounds),
        "rows_pulled_per_round": round(sum(r.rows_pulled for r in in_window) / len(in_window), 1),
        "drain_seconds": round(finished - schedule.window_ends, 3),
    }


def check_applied(server: ServerProcess, sites: list[MasterData], devices: list[WireDevice]) -> None:
    """Every device's mutations are all recorded as applied by the server."""
    recorded = last_applied_seqs(server, [master.site_id for master in sites])
    wrong = [(d.device_id, recorded.get(d.device_id), d.next_seq - 1) for d in devices
             if recorded.get(d.device_id) != d.next_seq - 1]
    if wrong:
        raise AssertionError(f"{len(wrong)} device(s) with last_applied_seq differing from what they pushed, "
                             f"e.g. {wrong[0]}")


def measure(session: Session, backend: str, db_url: str, work: Path, point: Point, window: float) -> dict[str, Any]:
    warm_up = point.pause_seconds + 1.0 if point.pause_seconds else 0.5
    with running_server(db_url, work / "server.log") as server:
        sites = create_sites(server, -(-point.devices // DEVICES_PER_SITE))
        codes = [enrollment_codes(server, master.site_id, min(DEVICES_PER_SITE, point.devices - i * DEVICES_PER_SITE))
                 for i, master in enumerate(sites)]
        session.log(f"concurrency/{backend}: {point.label} in {len(sites)} site(s), "
                    f"{warm_up:.1f} s warm-up + {window:.0f} s window")
        with PeakRss(server.process.pid) as rss:
            result = asyncio.run(drive(server.url, list(zip(sites, codes)), warm_up=warm_up, window=window,
                                       pause_seconds=point.pause_seconds))
        check_applied(server, sites, result.pop("devices"))
    result["rss_peak"] = rss.peak
    result["warm_up_s"] = warm_up
    session.log(f"concurrency/{backend}: {point.label}: {result['rate']:,.0f} mutations/s, round p50 "
                f"{result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, server RSS peak {rss.peak / 2**20:.0f} MiB "
                f"({result['rounds_in_window']} rounds in the window)")
    return result


# -- the benchmark ----------------------------------------------------------------------------


def _figures(backend: str, results: dict[Point, dict[str, Any] | str], details_common: dict[str, Any]) -> list[Figure]:
    """Four rows per point; a point whose requests failed (a string: why) gets four failed rows."""
    base_point = next(iter(results))
    base = results[base_point]
    # (what, unit, key in a result, divisor to the unit, baseline's name)
    rows = (("mutations/s", "mutations/s", "rate", 1, base_point.label),
            ("p50 push + pull round", "ms", "p50", 1, f"{base_point.label} p50"),
            ("p99 push + pull round", "ms", "p99", 1, f"{base_point.label} p99"),
            ("server RSS at peak", "MiB", "rss_peak", 2**20, base_point.label))
    figures = []
    for point, result in results.items():
        target = P99_TARGET if point.devices == TARGET_DEVICES and point.pause_seconds else None
        if isinstance(result, str):
            figures += [Figure(NAME, f"{what}, {point.label}", backend, unit, target=target if key == "p99" else None,
                               status="failed", reason=result) for what, unit, key, _scale, _base_name in rows]
            continue
        details = {**details_common, "devices": point.devices, "pause_ms": round(point.pause_seconds * 1000),
                   "sites": -(-point.devices // DEVICES_PER_SITE),
                   "offered_at_most_per_s": (round(point.devices * RECEIPTS_PER_ROUND / point.pause_seconds, 1)
                                             if point.pause_seconds else None),
                   **{key: result[key] for key in ("warm_up_s", "push_p50_ms", "push_p99_ms", "max_ms",
                                                   "rounds_in_window", "rounds_total", "mutations_total",
                                                   "rows_pulled_per_round", "drain_seconds")}}
        figures += [
            Figure(NAME, f"{what}, {point.label}", backend, unit, result[key] / scale, baseline_name=base_name,
                   baseline_value=base[key] / scale, target=target if key == "p99" else None, details=details)
            for what, unit, key, scale, base_name in rows
        ]
    return figures


def pause_ms(session: Session) -> int:
    return session.sizes.get("pause_ms", PAUSE_MS)  # not Session.size: 0 is a choice, not "unset"


def points(session: Session) -> list[Point]:
    pause = pause_ms(session) / 1000
    chosen = [Point(1, 0.0, "1 device")]
    for count in session.size("devices", ACTIVE_DEVICE_COUNTS, QUICK_ACTIVE_DEVICE_COUNTS):
        chosen.append(Point(count, pause, f"{count} active devices" if pause else f"{count} devices, no pause"))
    if pause and not session.quick:
        chosen.append(Point(TARGET_DEVICES, 0.0, f"{TARGET_DEVICES} devices, no pause"))
    return chosen


def run(session: Session) -> list[Figure]:
    chosen = points(session)
    window = float(session.size("duration", *WINDOW_SECONDS))
    details_common = {"receipts_per_round": RECEIPTS_PER_ROUND, "devices_per_site": DEVICES_PER_SITE,
                      "window_s": window, "open_files_limit": raise_open_files_limit()}

    @contextmanager
    def sqlite_database(work: Path) -> Iterator[str]:
        yield sqlite_url(work / "server.db")

    @contextmanager
    def scratch_postgres(_work: Path) -> Iterator[str]:
        with postgres_database(session.pg_url) as (server_url, _dsn):
            yield server_url

    def sweep(backend: str, database) -> list[Figure]:
        results: dict[Point, dict[str, Any] | str] = {}
        for point in chosen:
            work = session.scratch(f"{NAME}/{backend.lower()}-{point.devices}-{round(point.pause_seconds * 1000)}")
            try:
                with database(work) as db_url:
                    results[point] = measure(session, backend, db_url, work, point, window)
            except (WireError, httpx.TransportError) as error:
                refused = isinstance(error, WireError) and error.status < 500
                if refused or not results:  # a refusal is a bug; without the baseline no row means anything
                    raise
                # A server refusing or dropping requests under this load is a result for this
                # point; the other points still stand.
                results[point] = f"{type(error).__name__}: {error}"[:300]
                session.log(f"concurrency/{backend}: {point.label}: requests failed: {results[point]}")
        return _figures(backend, results, details_common)

    figures = sweep("SQLite", sqlite_database)
    reason = session.postgres_unavailable()
    if reason is not None:
        return figures + [skipped(NAME, f"p99 push + pull round, {TARGET_DEVICES} active devices", "PostgreSQL",
                                  "ms", reason, P99_TARGET)]
    return figures + sweep("PostgreSQL", scratch_postgres)
