"""Push: how many device mutations per second one server process applies.

What it measures: wall time of ``EdgeClient.push()`` sending 20,000 ``inventory.receive``
mutations (2,000 with ``--quick``) in batches of 500 (``edge_client.client.PUSH_BATCH``) to a
single server process (``server.process.ServerProcess``) over HTTP on 127.0.0.1, on SQLite and
on PostgreSQL. Every batch is one server transaction: decode, sequence checks, the receive
handler per mutation (item, location and idempotency checks, the stock move, the on-hand
update, a savepoint each), the mutation log and the device's ``last_applied_seq``.

How: the device is enrolled and synced, then the mutations are made locally with
``client.run(...)`` (never part of the figure); only ``client.push()`` is timed. The receipts
rotate over 4 items × 5 locations so on-hand rows are both created and updated. The PostgreSQL
device gets master data with the same ids and the very same mutations queued in its outbox, so
both servers apply an identical stream (and the local part is paid once). Afterwards the
server's ``last_applied_seq`` for the device must equal the count.

PostgreSQL runs in a database of its own (``jcerp_bench_<random>``), dropped afterwards.

Baseline (same run): raw ``sqlite3`` ``executemany`` of as many stock-move rows into a fresh
``stock_moves`` table (same definition and indexes), one commit per 500 rows as a push batch
commits once; median of three runs. The raw ``asyncpg`` ``executemany`` of the same rows into a
copy of ``stock_moves`` on PostgreSQL is reported as well, for scale.

When a target is missed, the SQLite server-side apply is also measured in-process, without HTTP,
on copies of the server's database taken just before the push, for the first 5,000 mutations
(500 with ``--quick``): ``sync.server_apply.decode_batch`` + ``apply_push`` per batch
(1) on a synchronous SQLAlchemy connection in the calling thread and (2) through the server's own
``server.db.Database.write`` (on SQLite: the whole transaction on its writer thread), so the table
shows what the server's transaction wiring adds. A cProfile of
(1) is written to ``bench/results/push_profile.txt``.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import sqlite3
import statistics
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import insert, select

from bench.common import (
    BENCH_USER, STOCK_MOVE_COLUMNS, Figure, MasterData, Session, Target, create_master_data, enrollment_codes,
    last_applied_seqs, postgres_database, raw_insert_seconds, running_server, skipped, sqlite_url, stock_move_rows,
    stopwatch,
)
from edge_client.client import PUSH_BATCH, EdgeClient
from edge_client.local_tables import edge_outbox
from edge_client.replica import set_meta
from erp.inventory.stock_move import Receive
from protocol.base import MSGPACK
from protocol.push import MutationEnvelope
from server.db import Database
from server.process import ServerProcess
from sync.ids import new_id
from sync.registry import discover
from sync.server_apply import apply_push, decode_batch
from sync.sqlite import sqlite_engine

NAME = "push"
TARGETS = {
    "SQLite": Target(">=", 10_000, "mutations/s", "≥ 10,000 mutations/s"),
    "PostgreSQL": Target(">=", 5_000, "mutations/s", "≥ 5,000 mutations/s"),
}
METRIC = "mutations/s applied (batches of 500)"
PROFILE_FILE = "push_profile.txt"


# -- the measured path -----------------------------------------------------------------------


def make_mutations(client: EdgeClient, master: MasterData, count: int) -> None:
    now = datetime.now(timezone.utc)
    items, locations = master.item_ids, master.location_ids
    for i in range(count):
        client.run("inventory.receive", Receive(
            move_id=new_id(), item_id=items[i % len(items)], location_id=locations[(i // len(items)) % len(locations)],
            quantity=Decimal(1 + i % 7), occurred_at=now, reference=f"PO-{i // 50:05d}",
        ), user=BENCH_USER)


def server_last_applied(server: ServerProcess, site_id: str, device_id: str) -> int:
    return last_applied_seqs(server, [site_id])[device_id]


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the backup API reads one snapshot)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def queue_copies(client: EdgeClient, envelopes: list[MutationEnvelope]) -> None:
    """Queue mutations recorded on another device as this device's pending work, unchanged."""
    created = datetime.now(timezone.utc).isoformat()
    with client.engine.begin() as conn:
        conn.execute(insert(edge_outbox), [
            {"seq": e.seq, "name": e.name, "version": e.version, "args": bytes(e.args), "hlc": e.hlc,
             "user_name": e.user, "created_at": created, "pushed": 0} for e in envelopes])
        set_meta(conn, "next_seq", envelopes[-1].seq + 1)


def measure_push(session: Session, backend: str, db_url: str, work: Path, count: int, *,
                 snapshot: Path | None = None, recorded: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start a server on ``db_url``, queue ``count`` mutations on a new device, time ``push()``.

    The first backend makes the mutations with ``client.run``; the next (``recorded``) gets the
    same master-data ids and the same mutations queued as they are, so both servers apply an
    identical stream and the slow local part is paid once.
    """
    with running_server(db_url, work / "server.log") as server:
        master = create_master_data(server, items=4, locations=5, like=recorded["master"] if recorded else None)
        [code] = enrollment_codes(server, master.site_id)
        client = EdgeClient.enroll(work / "device", server_url=server.url, site_id=master.site_id,
                                   device_name="基准平板", enrollment_code=code)
        try:
            client.sync_once()  # the device needs the items and locations to run receipts locally
            elapsed = stopwatch()
            if recorded is None:
                session.log(f"push/{backend}: making {count:,} mutations locally with client.run (not timed)")
                make_mutations(client, master, count)
            else:
                session.log(f"push/{backend}: queueing the same {count:,} mutations (not timed)")
                queue_copies(client, recorded["envelopes"])
            local_seconds = elapsed()
            if snapshot is not None:
                copy_sqlite(Path(db_url.split("///", 1)[1]), snapshot)
            session.log(f"push/{backend}: timing EdgeClient.push()")
            elapsed = stopwatch()
            report = client.push()
            seconds = elapsed()
            if report.applied != count or report.rejected or report.duplicates:
                raise AssertionError(f"push applied {report.applied}, rejected {report.rejected}, "
                                     f"duplicates {report.duplicates}; expected {count} applied")
            applied = server_last_applied(server, master.site_id, client.identity.device_id)
            if applied != count:
                raise AssertionError(f"server last_applied_seq is {applied}, expected {count}")
            with client.engine.begin() as conn:
                envelopes = [MutationEnvelope(seq=r.seq, name=r.name, version=r.version, args=msgspec.Raw(r.args),
                                              hlc=r.hlc, user=r.user_name)
                             for r in conn.execute(select(edge_outbox).order_by(edge_outbox.c.seq))]
            device_id = client.identity.device_id
        finally:
            client.close()
    rate = count / seconds
    session.log(f"push/{backend}: {count:,} mutations in {seconds:.2f} s = {rate:,.0f}/s "
                f"(preparing them took {local_seconds:.1f} s)")
    return {"rate": rate, "seconds": seconds, "local_seconds": local_seconds, "master": master,
            "envelopes": envelopes, "device_id": device_id}


# -- baselines -------------------------------------------------------------------------------


def sqlite_baseline(path: Path, rows: list[tuple]) -> float:
    return raw_insert_seconds(path, rows, PUSH_BATCH)


async def _postgres_baseline(dsn: str, rows: list[tuple]) -> float:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE bench_moves (LIKE stock_moves INCLUDING ALL)")
        names = ", ".join(f'"{name}"' for name in STOCK_MOVE_COLUMNS)
        marks = ", ".join(f"${i}" for i in range(1, len(STOCK_MOVE_COLUMNS) + 1))
        sql = f"INSERT INTO bench_moves ({names}) VALUES ({marks})"
        # asyncpg binds typed values: NUMERIC wants Decimal and timestamptz a datetime.
        typed = [(*row[:5], Decimal(row[5]), *row[6:9], datetime.fromisoformat(row[9]), *row[10:]) for row in rows]
        elapsed = stopwatch()
        for start in range(0, len(typed), PUSH_BATCH):
            async with conn.transaction():
                await conn.executemany(sql, typed[start:start + PUSH_BATCH])
        return elapsed()
    finally:
        await conn.close()


# -- in-process apply and its profile ---------------------------------------------------------


def server_like_engine(path: Path):
    """A synchronous engine configured as the server's SQLite writer (server.db)."""
    return sqlite_engine(f"sqlite:///{path}")


def apply_in_process(path: Path, device_id: str, envelopes: list[MutationEnvelope],
                     profiler: cProfile.Profile | None = None) -> float:
    registry = discover()
    engine = server_like_engine(path)
    try:
        elapsed = stopwatch()
        if profiler is not None:
            profiler.enable()
        for start in range(0, len(envelopes), PUSH_BATCH):
            batch = decode_batch(registry, envelopes[start:start + PUSH_BATCH], MSGPACK)
            with engine.begin() as conn:
                outcome = apply_push(conn, registry, device_id, batch)
            if any(result.status != "applied" for result in outcome.response.results):
                raise AssertionError("in-process apply rejected a mutation")
        if profiler is not None:
            profiler.disable()
        return elapsed()
    finally:
        engine.dispose()


def profile_text(profiler: cProfile.Profile, header: str, top: int = 30) -> str:
    out = io.StringIO()
    out.write(header + "\n\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    for order in ("cumulative", "tottime"):
        out.write(f"--- top {top} by {order} ---\n")
        stats.sort_stats(order).print_stats(top)
    return out.getvalue()


# -- the benchmark ---------------------------------------------------------------------------


def run(session: Session) -> list[Figure]:
    count = session.size("mutations", 20_000, 2_000)
    figures: list[Figure] = []

    session.log(f"push: baseline (raw sqlite3 executemany of {count:,} rows, a commit per {PUSH_BATCH})")
    placeholder = MasterData(new_id(), [new_id() for _ in range(4)], [new_id() for _ in range(5)])
    rows = stock_move_rows(count, placeholder, device_id=new_id(), version=1)
    baseline_seconds = statistics.median(sqlite_baseline(session.scratch(NAME) / f"baseline-{i}.db", rows)
                                         for i in range(3))
    baseline_rate = count / baseline_seconds

    def figure(backend: str, measured: dict[str, Any]) -> Figure:
        return Figure(NAME, METRIC, backend, "mutations/s", measured["rate"],
                      baseline_name="raw sqlite3 executemany", baseline_value=baseline_rate,
                      baseline_unit="rows/s", target=TARGETS[backend],
                      details={"mutations": count, "batch": PUSH_BATCH, "seconds": round(measured["seconds"], 3),
                               "baseline_seconds": round(baseline_seconds, 3),
                               "preparation_seconds_not_timed": round(measured["local_seconds"], 2)})

    work = session.scratch(f"{NAME}/sqlite")
    snapshot = work / "before-push.db"
    sqlite_result = measure_push(session, "SQLite", sqlite_url(work / "server.db"), work, count, snapshot=snapshot)
    figures.append(figure("SQLite", sqlite_result))

    reason = session.postgres_unavailable()
    if reason is not None:
        figures.append(skipped(NAME, METRIC, "PostgreSQL", "mutations/s", reason, TARGETS["PostgreSQL"]))
    else:
        work = session.scratch(f"{NAME}/postgres")
        with postgres_database(session.pg_url) as (server_url, dsn):
            measured = measure_push(session, "PostgreSQL", server_url, work, count, recorded=sqlite_result)
            figures.append(figure("PostgreSQL", measured))
            session.log("push: PostgreSQL raw baseline (asyncpg executemany)")
            pg_seconds = asyncio.run(_postgres_baseline(dsn, rows))
        figures.append(Figure(NAME, "raw asyncpg executemany (for scale)", "PostgreSQL", "rows/s",
                              count / pg_seconds, baseline_name="raw sqlite3 executemany",
                              baseline_value=baseline_rate,
                              details={"rows": count, "seconds": round(pg_seconds, 3)}))

    if any(f.met is False for f in figures):
        figures.extend(explain_sqlite(session, sqlite_result, snapshot, baseline_rate))
    else:
        # A profile left by an earlier run would describe code that now meets its targets.
        (session.results_dir / PROFILE_FILE).unlink(missing_ok=True)
    return figures


async def _apply_async(path: Path, device_id: str, envelopes: list[MutationEnvelope]) -> float:
    """The same batches through the server's own ``Database.write`` (its SQLite writer thread)."""
    registry = discover()
    db = Database(sqlite_url(path))
    try:
        elapsed = stopwatch()
        for start in range(0, len(envelopes), PUSH_BATCH):
            batch = decode_batch(registry, envelopes[start:start + PUSH_BATCH], MSGPACK)
            await db.write(apply_push, registry, device_id, batch)
        return elapsed()
    finally:
        await db.dispose()


def explain_sqlite(session: Session, measured: dict[str, Any], snapshot: Path, baseline_rate: float) -> list[Figure]:
    """Apply the pushed batches in-process (no HTTP): sync engine, server's Database.write, profile."""
    envelopes = measured["envelopes"][:session.size("diagnostic_mutations", 5_000, 500)]
    count, device_id, work = len(envelopes), measured["device_id"], snapshot.parent
    copies = {name: work / f"{name}.db" for name in ("in-process", "profiled", "async")}
    for copy in copies.values():
        copy_sqlite(snapshot, copy)

    session.log(f"push: SQLite apply_push in-process on {count:,} mutations: sync engine, cProfile, Database.write")
    seconds = apply_in_process(copies["in-process"], device_id, envelopes)
    profiler = cProfile.Profile()
    profiled_seconds = apply_in_process(copies["profiled"], device_id, envelopes, profiler)
    async_seconds = asyncio.run(_apply_async(copies["async"], device_id, envelopes))
    rate, async_rate = count / seconds, count / async_seconds

    text = profile_text(profiler, (
        f"decode_batch + apply_push of {count:,} inventory.receive mutations in batches of {PUSH_BATCH}, "
        f"in-process on SQLite (synchronous SQLAlchemy connection, the server's pragmas).\n"
        f"Unprofiled: {seconds:.2f} s = {rate:,.0f} mutations/s; under cProfile: {profiled_seconds:.2f} s.\n"
        f"The same batches through server.db.Database.write (the server's SQLite writer thread): "
        f"{async_seconds:.2f} s = {async_rate:,.0f} mutations/s."))
    session.results_dir.mkdir(parents=True, exist_ok=True)
    path = session.results_dir / PROFILE_FILE
    path.write_text(text, encoding="utf-8")
    session.artifacts["push_profile"] = path.name
    session.log(f"push: in-process {rate:,.0f}/s (sync engine), {async_rate:,.0f}/s (server's Database.write); "
                f"profile in {path}")
    session.notes.append(
        f"push (SQLite, diagnostic): the same batches applied in-process without HTTP run at {rate:,.0f} "
        f"mutations/s on a synchronous connection and {async_rate:,.0f}/s through the server's Database.write "
        f"(its writer thread); over HTTP the server reached {measured['rate']:,.0f}/s. The profile of the synchronous "
        f"apply is in `bench/results/{path.name}`.")
    details = {"mutations": count, "batch": PUSH_BATCH}
    return [
        Figure(NAME, "apply_push in-process, sync engine, no HTTP (diagnostic)", "SQLite", "mutations/s", rate,
               baseline_name="raw sqlite3 executemany", baseline_value=baseline_rate, baseline_unit="rows/s",
               details={**details, "seconds": round(seconds, 3), "profiled_seconds": round(profiled_seconds, 3)}),
        Figure(NAME, "apply_push in-process, server's Database.write, no HTTP (diagnostic)", "SQLite", "mutations/s",
               async_rate, baseline_name="raw sqlite3 executemany", baseline_value=baseline_rate,
               baseline_unit="rows/s", details={**details, "seconds": round(async_seconds, 3)}),
    ]
