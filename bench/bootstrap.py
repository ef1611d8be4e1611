"""Bootstrap: how fast a new device downloads a large site into its empty replica.

What it measures: wall time of ``EdgeClient.bootstrap()`` for a fresh device whose site holds
1,000,000 stock moves (50,000 with ``--quick``), served by a real server process
(``server.process.ServerProcess``, SQLite file) over HTTP on 127.0.0.1. That covers the server
reading chunks in key order, MessagePack framing, the HTTP stream, decoding on the device and
``INSERT OR REPLACE`` into the replica, one transaction per chunk. Reported as rows/s.

How:
1. start the server (it runs the migrations), create a site, unit, item, warehouse and location
   through the HQ API, and enroll a device for the site;
2. stop the server and seed ``stock_moves`` straight into its SQLite file with ``executemany``:
   the rows are stamped with a version the clock is advanced to (so they are committed data
   for any reader), then the WAL is checkpointed so the server starts from a clean file;
3. start the server again and time ``bootstrap()`` of a freshly enrolled device, three times
   (three devices enrolled in step 1); check each replica holds every row. The median run is
   the figure; every run is kept in the JSON.

Baseline (same run): raw ``sqlite3`` ``executemany`` of the same rows into a fresh SQLite file
holding only ``stock_moves`` (created from the same table definition, indexes included), with
the replica's pragmas and one commit per 20,000 rows, the bootstrap's chunk size, also three
times into three fresh files, median. It is the speed of the local write alone; the target asks
for at least a third of it.
"""

from __future__ import annotations

import sqlite3
import statistics
from pathlib import Path

from bench.common import (
    STOCK_MOVE_INSERT, Figure, Session, Target, create_master_data, enrollment_codes, raw_insert_seconds,
    running_server, sqlite_url, stock_move_rows, stopwatch,
)
from edge_client.client import EdgeClient
from server.process import ServerProcess

NAME = "bootstrap"
CHUNK_ROWS = 20_000  # EdgeClient.bootstrap's default chunk size
REPEATS = 3  # runs of each side; the median damps the noise of a shared machine


def seed_server(db_path: Path, rows: list[tuple], version: int) -> None:
    """Write ``rows`` into the server's database as one commit at ``version``."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE sync_clock SET version = ? WHERE id = 1", (version,))
        conn.executemany(STOCK_MOVE_INSERT, rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def clock_version(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT version FROM sync_clock WHERE id = 1").fetchone()[0]
    finally:
        conn.close()


def baseline_insert(path: Path, rows: list[tuple]) -> float:
    """Seconds to insert ``rows`` with raw executemany into a fresh ``stock_moves`` table."""
    return raw_insert_seconds(path, rows, CHUNK_ROWS)


def run(session: Session) -> list[Figure]:
    count = session.size("rows", 1_000_000, 50_000)
    work = session.scratch(NAME)
    db_path = work / "server.db"
    log_path = work / "server.log"

    with running_server(sqlite_url(db_path), log_path) as server:
        master = create_master_data(server)
        clients = [EdgeClient.enroll(work / f"device-{i}", server_url=server.url, site_id=master.site_id,
                                     device_name=f"基准平板 {i}", enrollment_code=code)
                   for i, code in enumerate(enrollment_codes(server, master.site_id, REPEATS))]
        port = server.port
    device_id = clients[0].identity.device_id

    version = clock_version(db_path) + 1
    session.log(f"bootstrap: generating {count:,} stock moves")
    rows = stock_move_rows(count, master, device_id=device_id, version=version,
                           progress=lambda n: session.log(f"bootstrap:   {n:,} rows generated"))
    session.log("bootstrap: seeding the server's database")
    seed_server(db_path, rows, version)

    baseline_runs = []
    for i in range(REPEATS):
        session.log(f"bootstrap: baseline run {i + 1}/{REPEATS} (raw sqlite3 executemany into a fresh file)")
        baseline_runs.append(baseline_insert(work / f"baseline-{i}.db", rows))
        (work / f"baseline-{i}.db").unlink()
    baseline_seconds = statistics.median(baseline_runs)
    baseline_rate = count / baseline_seconds
    del rows  # the bootstrap below must not compete with a million tuples for memory

    runs, received = [], 0
    with ServerProcess(sqlite_url(db_path), port=port, log_path=log_path):
        for i, client in enumerate(clients):
            session.log(f"bootstrap: run {i + 1}/{REPEATS}: timing EdgeClient.bootstrap() of {count:,} moves")
            elapsed = stopwatch()
            received = client.bootstrap(chunk_rows=CHUNK_ROWS)
            runs.append(elapsed())
            with client.engine.begin() as conn:
                in_replica = conn.exec_driver_sql("SELECT count(*) FROM stock_moves").scalar_one()
            client.close()
            if in_replica != count:
                raise AssertionError(f"the replica holds {in_replica} stock moves, expected {count}")
            session.log(f"bootstrap:   {received:,} rows in {runs[-1]:.2f} s = {received / runs[-1]:,.0f} rows/s")
    seconds = statistics.median(runs)
    rate = received / seconds
    session.log(f"bootstrap: median {rate:,.0f} rows/s (baseline median {baseline_rate:,.0f} rows/s)")
    details = {"rows": count, "rows_received": received, "chunk_rows": CHUNK_ROWS,
               "runs_seconds": [round(r, 3) for r in runs], "baseline_runs_seconds": [round(r, 3) for r in baseline_runs]}
    return [
        Figure(
            NAME, "rows/s into a fresh replica over HTTP", "SQLite", "rows/s", rate,
            baseline_name="raw sqlite3 executemany", baseline_value=baseline_rate,
            target=Target(">=", baseline_rate / 3, "rows/s", "≥ 1/3 of baseline rate"), details=details,
        ),
        Figure(
            NAME, f"wall time for {count:,} moves", "SQLite", "s", seconds,
            baseline_name="raw sqlite3 executemany", baseline_value=baseline_seconds, details=details,
        ),
    ]
