"""Pull: a device's pull costs what changed since its cursor, not what the site holds.

What it measures: wall time of ``EdgeClient.pull()`` (request pages until caught up, apply each
to the replica) for a device whose cursor is 10, 100, 1,000 or 10,000 stock moves behind
(quick: 10, 100, 1,000), against a site holding 10,000 older stock moves and against one
holding 500,000 (quick: 2,000 and 50,000), served by one server process
(``server.process.ServerProcess``) over HTTP on 127.0.0.1, on SQLite and on PostgreSQL. The
figure for each count of changed moves is the time on the big site; its baseline is the same
pull on the small site, so the ratio is what the site's size adds and should stay near 1.
The times themselves show how the cost grows with what changed.

How: per site size, a fresh server and database; the site, unit, items and locations are made
through the HQ API, and the device is enrolled and pulls them (not timed). Then the stock moves
are written straight into the server's database, as ``bench/bootstrap.py`` does: the older
ones, then 10,000 recent ones (quick 1,000), 10 per change version in ascending order, as if
committed by pushes of 10 receipts, and the change clock is moved to the last version. On
PostgreSQL the rows go in with ``COPY`` and the table is analyzed afterwards, as autovacuum
would do on a live server. A pull of N changed moves starts from the version N / 10 below the
newest: per N, the device's cursor is set there, one pull warms up, then five pulls (quick
three) are timed, the cursor reset before each; the median is the figure. The same number of
bare request loops (``HttpTransport.pull`` from that cursor until ``has_more`` is false,
nothing applied) is timed too and kept in the JSON as the server-and-transport share; each must
return exactly N stock moves and end at the newest version.

PostgreSQL runs in databases of its own (``jcerp_bench_<random>``), dropped afterwards.

Baseline (same run): the pull of the same number of changed moves on the small site.

No target in the spec; the expectation (docs/architecture.md, section 6.4) is a ratio near 1.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

from bench.common import (
    STOCK_MOVE_COLUMNS, STOCK_MOVE_INSERT, VERSIONS, Figure, MasterData, Session, create_master_data, enrollment_codes,
    postgres_database, running_server, skipped, sqlite_url, stock_move_rows, stopwatch,
)
from edge_client.client import PULL_PAGE, EdgeClient
from edge_client.replica import set_meta
from protocol.pull import PullRequest

NAME = "pull"
SITE_MOVES = ((10_000, 500_000), (2_000, 50_000))  # older moves in the small and the big site: full, quick
CHANGED_MOVES = ((10, 100, 1_000, 10_000), (10, 100, 1_000))  # full, quick
ROWS_PER_VERSION = 10  # recent moves committed as pushes of 10 receipts each
VERSION_INDEX = STOCK_MOVE_COLUMNS.index("_version")


@dataclass(frozen=True)
class ScratchDatabase:
    """A fresh server database, and how to write stock moves straight into it."""

    url: str
    clock_version: Callable[[], int]
    seed: Callable[[list[tuple], int], None]  # (rows, the version the clock moves to)


def layered_rows(older: int, recent: int, master: MasterData, device_id: str, first_version: int) -> list[tuple]:
    """``older + recent`` stock moves, ``ROWS_PER_VERSION`` to a version, ascending from
    ``first_version``; the last ``recent`` of them are the changes the pulls will ask for."""
    rows = stock_move_rows(older + recent, master, device_id=device_id, version=0)
    return [(*row[:VERSION_INDEX], first_version + i // ROWS_PER_VERSION, *row[VERSION_INDEX + 1:])
            for i, row in enumerate(rows)]


def clock_version_sqlite(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT version FROM sync_clock WHERE id = 1").fetchone()[0]
    finally:
        conn.close()


def seed_sqlite(path: Path, rows: list[tuple], newest: int) -> None:
    """Write ``rows`` into the server's SQLite file (WAL lets the idle server keep running)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(STOCK_MOVE_INSERT, rows)
        conn.execute("UPDATE sync_clock SET version = ? WHERE id = 1", (newest,))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def _clock_version_postgres(dsn: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT version FROM sync_clock WHERE id = 1")
    finally:
        await conn.close()


async def _seed_postgres(dsn: str, rows: list[tuple], newest: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        # COPY binds typed values: NUMERIC wants Decimal and timestamptz a datetime.
        typed = ((*row[:5], Decimal(row[5]), *row[6:9], datetime.fromisoformat(row[9]), *row[10:]) for row in rows)
        async with conn.transaction():
            await conn.copy_records_to_table("stock_moves", records=typed, columns=list(STOCK_MOVE_COLUMNS))
            await conn.execute("UPDATE sync_clock SET version = $1 WHERE id = 1", newest)
        # A live server's autovacuum analyzes a table that grew this much; without statistics the
        # planner would judge the pull queries on an empty table.
        await conn.execute("ANALYZE stock_moves")
    finally:
        await conn.close()


def timed_pulls(client: EdgeClient, cursor: int, repeats: int) -> list[float]:
    """Seconds of ``client.pull()`` from ``cursor``: one warm-up, then ``repeats`` timed."""
    times = []
    for i in range(repeats + 1):
        with client.engine.begin() as conn:
            set_meta(conn, "cursor", cursor)
        elapsed = stopwatch()
        client.pull()
        if i:
            times.append(elapsed())
    return times


def timed_request_loops(client: EdgeClient, cursor: int, repeats: int, changed: int, newest: int) -> list[float]:
    """Seconds of bare pull requests from ``cursor`` until caught up; checks what came back."""
    identity = client.identity
    times = []
    for _ in range(repeats):
        position, moves = cursor, 0
        elapsed = stopwatch()
        while True:
            page = client.transport.pull(PullRequest(**VERSIONS, device_id=identity.device_id,
                                                     site_id=identity.site_id, cursor=position, limit=PULL_PAGE))
            position = page.cursor
            moves += sum(len(t.rows) for t in page.tables if t.table == "stock_moves")
            if not page.has_more:
                break
        times.append(elapsed())
        if moves != changed or position != newest:
            raise AssertionError(f"pull from {cursor}: {moves} stock moves up to version {position}, "
                                 f"expected {changed} up to {newest}")
    return times


def measure_site(session: Session, backend: str, database, work: Path, older: int, changes: tuple[int, ...],
                 repeats: int) -> dict[int, dict[str, Any]]:
    """Per count of changed moves: median seconds of ``EdgeClient.pull`` and of the request loop."""
    recent = max(changes)
    with database(work) as db:
        with running_server(db.url, work / "server.log") as server:
            master = create_master_data(server, items=4, locations=5)
            [code] = enrollment_codes(server, master.site_id)
            client = EdgeClient.enroll(work / "device", server_url=server.url, site_id=master.site_id,
                                       device_name="基准平板", enrollment_code=code)
            try:
                client.pull()  # the replica needs the items and locations the moves refer to
                first_version = db.clock_version() + 1
                session.log(f"pull/{backend}: seeding {older:,} + {recent:,} stock moves")
                rows = layered_rows(older, recent, master, client.identity.device_id, first_version)
                newest = rows[-1][VERSION_INDEX]
                db.seed(rows, newest)
                del rows
                results = {}
                for changed in changes:
                    cursor = newest - changed // ROWS_PER_VERSION
                    pulls = timed_pulls(client, cursor, repeats)
                    loops = timed_request_loops(client, cursor, repeats, changed, newest)
                    results[changed] = {"seconds": statistics.median(pulls), "runs": pulls,
                                        "request_loop_seconds": statistics.median(loops)}
                    session.log(f"pull/{backend}: site of {older + recent:,} moves, {changed:,} changed: "
                                f"EdgeClient.pull {results[changed]['seconds'] * 1000:.1f} ms, requests alone "
                                f"{results[changed]['request_loop_seconds'] * 1000:.1f} ms")
            finally:
                client.close()
    return results


def _figures(backend: str, small: int, big: int, recent: int, results: dict[int, dict[int, dict[str, Any]]],
             repeats: int) -> list[Figure]:
    figures = []
    for changed, on_big in results[big].items():
        on_small = results[small][changed]
        figures.append(Figure(
            NAME, f"EdgeClient.pull of {changed:,} changed moves, site of {big + recent:,}", backend, "ms",
            on_big["seconds"] * 1000, baseline_name=f"same on a site of {small + recent:,}",
            baseline_value=on_small["seconds"] * 1000,
            details={"changed_moves": changed, "moves_per_version": ROWS_PER_VERSION, "repeats": repeats,
                     "site_moves": {"small": small + recent, "big": big + recent},
                     "runs_ms": {"small": [round(t * 1000, 3) for t in on_small["runs"]],
                                 "big": [round(t * 1000, 3) for t in on_big["runs"]]},
                     "request_loop_ms": {"small": round(on_small["request_loop_seconds"] * 1000, 3),
                                         "big": round(on_big["request_loop_seconds"] * 1000, 3)}},
        ))
    return figures


def changed_counts(session: Session) -> tuple[int, ...]:
    return CHANGED_MOVES[1] if session.quick else CHANGED_MOVES[0]


def run(session: Session) -> list[Figure]:
    small, big = session.size("site_moves", *SITE_MOVES)
    if not small < big:
        raise ValueError(f"--site-moves wants the small site first: got {small:,},{big:,}")
    changes = changed_counts(session)
    repeats = 3 if session.quick else 5
    recent = max(changes)

    @contextmanager
    def sqlite_database(work: Path) -> Iterator[ScratchDatabase]:
        path = work / "server.db"
        yield ScratchDatabase(sqlite_url(path), lambda: clock_version_sqlite(path),
                              lambda rows, newest: seed_sqlite(path, rows, newest))

    @contextmanager
    def scratch_postgres(_work: Path) -> Iterator[ScratchDatabase]:
        with postgres_database(session.pg_url) as (server_url, dsn):
            yield ScratchDatabase(server_url, lambda: asyncio.run(_clock_version_postgres(dsn)),
                                  lambda rows, newest: asyncio.run(_seed_postgres(dsn, rows, newest)))

    def sweep(backend: str, database) -> list[Figure]:
        results = {older: measure_site(session, backend, database, session.scratch(f"{NAME}/{backend.lower()}-{older}"),
                                       older, changes, repeats)
                   for older in (small, big)}
        figures = _figures(backend, small, big, recent, results, repeats)
        ratios = ", ".join(f"{f.details['changed_moves']:,}: {f.ratio:.2f}×" for f in figures)
        session.notes.append(f"pull ({backend}): time on the site of {big + recent:,} moves against the site of "
                             f"{small + recent:,}, per count of changed moves: {ratios}.")
        return figures

    figures = sweep("SQLite", sqlite_database)
    reason = session.postgres_unavailable()
    if reason is not None:
        return figures + [skipped(NAME, f"EdgeClient.pull of {changed:,} changed moves, site of {big + recent:,}",
                                  "PostgreSQL", "ms", reason) for changed in changes]
    return figures + sweep("PostgreSQL", scratch_postgres)
