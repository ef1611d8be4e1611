"""Valuation: the stock valuation report (target ≤ 1 s) and the full rebuild of valuation from the ledger.

What it measures, on SQLite and PostgreSQL:

- the report: ``erp.inventory.valuation_report.valuation_report(conn)`` for all sites, run as the
  HQ API runs it (``server.db.Database.read``, one read transaction), several times; the p50 and
  the max. It reads the derived ``item_costs`` rows only, so its cost follows the number of
  (site, item) positions, not the number of moves;
- the rebuild: ``erp.inventory.stock_valuation.rebuild_valuation(conn)`` over the whole ledger in
  one write transaction (``Database.write``), as ledger rows per second, and its peak Python
  memory (``tracemalloc``, SQLite run) against the size of the ledger it streamed.

The data (seeded): 2 sites of 2 locations; 10,000 items (quick: 1,000), a third valued by each
method (moving average, FIFO, month-end weighted); 1,000,000 stock moves (quick: 50,000) spread
over six months of 2026 and over the (site, item) positions at random: 45 % receipts with a unit
cost, 45 % issues, 5 % adjustments without a cost, 5 % reversals of an earlier receipt (which
carry its cost, as ``stock_move.reverse`` writes them). Rows are inserted directly into a
database migrated to head; the incremental path is what ``push`` measures. The derived tables
come from the rebuild, and the report's quantities are checked against the ledger's sums.

Baselines, same database, same run: for the report, a raw read of the same ``item_costs`` rows
joined to ``items`` (``sqlite3`` ``fetchall``; ``asyncpg`` ``fetch``); for the rebuild, a raw
read of the same ledger rows in the same order (the floor of any rebuild that streams the
ledger). The details also give a raw ``SUM(quantity) GROUP BY site, item`` over the ledger: what
a report that scanned the ledger would pay at least.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from erp.inventory.item import items, units
from erp.inventory.stock_move import stock_moves
from erp.inventory.stock_valuation import rebuild_valuation
from erp.inventory.valuation_report import valuation_report
from erp.inventory.warehouse import locations, warehouses
from erp.org.site import sites

if TYPE_CHECKING:
    from bench.common import Figure, Session

NAME = "valuation"
TARGET_TEXT = "≤ 1 s for the whole report"
SEED = 20261124
SITES, LOCATIONS_PER_SITE = 2, 2
METHODS = ("moving_average", "fifo", "monthly_weighted")
CHUNK = 5_000
# (full, quick) sizes
ITEMS = (10_000, 1_000)
MOVES = (1_000_000, 50_000)
RUNS = (7, 5)

LEDGER_ORDER = ("SELECT site_id, item_id, id, quantity, unit_cost, reverses_id, occurred_at, _version FROM stock_moves "
                "WHERE kind NOT IN ('transfer_out', 'transfer_in') ORDER BY site_id, item_id, _version, id")
REPORT_ROWS = ("SELECT c.site_id, c.item_id, c.method, c.quantity, c.unit_cost, c.value, c.month, i.sku, i.name, "
               "i.unit_code FROM item_costs c JOIN items i ON i.id = c.item_id ORDER BY c.site_id, i.sku")
LEDGER_SUM = "SELECT site_id, item_id, SUM(quantity) FROM stock_moves GROUP BY site_id, item_id"


def master_rows(item_count: int) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {"sites": [], "units": [{"code": "PCS", "name": "件"}], "items": [],
                                             "warehouses": [], "locations": []}
    for s in range(SITES):
        site = f"site-{s}"
        rows["sites"].append({"id": site, "code": site.upper(), "name": f"仓 {site} 𠮷", "kind": "warehouse"})
        rows["warehouses"].append({"id": f"wh-{site}", "site_id": site, "code": f"W-{s}", "name": site,
                                   "negative_stock_policy": "allow"})
        for n in range(LOCATIONS_PER_SITE):
            rows["locations"].append({"id": f"loc-{site}-{n}", "site_id": site, "warehouse_id": f"wh-{site}",
                                      "code": f"L{n}", "name": f"库位 {n}"})
    for n in range(item_count):
        rows["items"].append({"id": f"item-{n:06d}", "sku": f"SKU-{n:06d}", "name": f"物料 {n} 𠮷", "unit_code": "PCS",
                              "active": True, "valuation_method": METHODS[n % len(METHODS)]})
    return rows


def ledger(item_count: int, move_count: int, *, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """The stock moves, generated one at a time (the ledger is never held in memory)."""
    rng = random.Random(seed)
    open_receipts: dict[tuple[int, int], list[tuple[str, Decimal, Decimal]]] = {}
    for n in range(move_count):
        s, i = rng.randrange(SITES), rng.randrange(item_count)
        site, item = f"site-{s}", f"item-{i:06d}"
        month = 1 + n * 6 // move_count
        occurred = datetime(2026, month, 1 + rng.randrange(28), rng.randrange(24), tzinfo=timezone.utc)
        draw = rng.random()
        receipts = open_receipts.setdefault((s, i), [])
        move_id = f"mv-{n:08d}"
        reverses = unit_cost = None
        kind = "issue"
        if draw < 0.45:
            kind, quantity = "receipt", Decimal(rng.randint(1, 400))
            unit_cost = Decimal(rng.randint(100, 99_999)) / 100
            receipts.append((move_id, quantity, unit_cost))
            del receipts[:-4]  # only recent receipts get reversed
        elif draw < 0.90:
            quantity = -Decimal(rng.randint(1, 300))
        elif draw < 0.95:
            kind, quantity = "adjustment", Decimal(rng.randint(-20, 20) or 1)
        elif receipts:
            original, received, unit_cost = receipts.pop()
            kind, quantity, reverses = "reversal", -received, original
        else:
            quantity = -Decimal(1)
        yield {"id": move_id, "site_id": site, "kind": kind, "item_id": item,
               "location_id": f"loc-{site}-{rng.randrange(LOCATIONS_PER_SITE)}", "quantity": quantity,
               "document_id": None, "reverses_id": reverses, "reference": None, "lot_no": None, "serial_no": None,
               "unit_cost": unit_cost, "occurred_at": occurred, "device_id": None, "seq": None,
               "hlc": f"{n:015d}-00000-bench", "user_name": "bench", "_version": n + 1}


MASTER_TABLES = {"sites": sites, "units": units, "items": items, "warehouses": warehouses, "locations": locations}


async def populate(db: Any, item_count: int, move_count: int) -> dict[tuple[str, str], Decimal]:
    """Migrate to head, insert master data and the ledger in chunks; the ledger's sums per position."""
    await db.migrate()
    for name, rows in master_rows(item_count).items():
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            await db.write(lambda conn, chunk=chunk, table=MASTER_TABLES[name]: conn.execute(insert(table), chunk))
    sums: dict[tuple[str, str], Decimal] = {}
    chunk: list[dict[str, Any]] = []
    for row in ledger(item_count, move_count):
        key = (row["site_id"], row["item_id"])
        sums[key] = sums.get(key, Decimal(0)) + row["quantity"]
        chunk.append(row)
        if len(chunk) == CHUNK:
            await db.write(lambda conn, chunk=chunk: conn.execute(insert(stock_moves), chunk))
            chunk = []
    if chunk:
        await db.write(lambda conn, chunk=chunk: conn.execute(insert(stock_moves), chunk))
    return sums


def _stats(seconds: list[float]) -> dict[str, float]:
    return {"p50_s": statistics.median(seconds), "max_s": max(seconds), "runs": len(seconds)}


def _raw_sqlite(path: Path, sql: str, runs: int) -> tuple[list[float], int]:
    connection = sqlite3.connect(path)
    try:
        seconds, count = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            count = sum(1 for _ in connection.execute(sql))
            seconds.append(time.perf_counter() - started)
        return seconds, count
    finally:
        connection.close()


async def _raw_postgres(dsn: str, sql: str, runs: int) -> tuple[list[float], int]:
    import asyncpg

    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        seconds, count = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            async with connection.transaction():
                count = 0
                async for _ in connection.cursor(sql, prefetch=2_000):
                    count += 1
            seconds.append(time.perf_counter() - started)
        return seconds, count
    finally:
        await connection.close()


def _check(report: Any, sums: dict[tuple[str, str], Decimal]) -> None:
    found = {(line.site_id, line.item_id): line.quantity for line in report.items}
    expected = {key: quantity for key, quantity in sums.items()}
    if found != expected:
        wrong = [key for key in expected if found.get(key) != expected[key]][:5]
        raise AssertionError(f"valuation report quantities differ from the ledger's sums, e.g. {wrong}")
    if sum((line.value for line in report.items), Decimal(0)) != report.total_value:
        raise AssertionError("the report's total is not the sum of its lines")


async def _backend_figures(session: Session, backend: str, db_url: str, item_count: int, move_count: int, runs: int,
                           *, sqlite_path: Path | None = None, pg_dsn: str | None = None) -> list[Figure]:
    from bench.common import Figure, Target
    from server.db import Database

    db = Database(db_url)
    details: dict[str, Any] = {"items": item_count, "sites": SITES, "moves": move_count}
    try:
        started = time.perf_counter()
        sums = await populate(db, item_count, move_count)
        session.log(f"valuation [{backend}]: {move_count:,} moves loaded in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        read = await db.write(rebuild_valuation)
        rebuild_s = time.perf_counter() - started
        if read != move_count:
            raise AssertionError(f"the rebuild read {read:,} moves, the ledger holds {move_count:,}")
        if sqlite_path is not None:  # the same rebuild again, traced, for its peak memory
            tracemalloc.start()
            try:
                await db.write(rebuild_valuation)
                details["rebuild_peak_traced_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            finally:
                tracemalloc.stop()
            details["ledger_file_mib"] = sqlite_path.stat().st_size / 2**20
        report = await db.read(valuation_report)
        _check(report, sums)
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            await db.read(valuation_report)
            seconds.append(time.perf_counter() - started)
    finally:
        await db.dispose()
    if sqlite_path is not None:
        raw_report, lines = _raw_sqlite(sqlite_path, REPORT_ROWS, runs)
        raw_ledger, ledger_rows = _raw_sqlite(sqlite_path, LEDGER_ORDER, 1)
        ledger_sum, _ = _raw_sqlite(sqlite_path, LEDGER_SUM, 1)
        how = "sqlite3"
    else:
        raw_report, lines = await _raw_postgres(pg_dsn, REPORT_ROWS, runs)
        raw_ledger, ledger_rows = await _raw_postgres(pg_dsn, LEDGER_ORDER, 1)
        ledger_sum, _ = await _raw_postgres(pg_dsn, LEDGER_SUM, 1)
        how = "asyncpg cursor"
    report_stats, raw_stats = _stats(seconds), _stats(raw_report)
    rate = move_count / rebuild_s
    raw_rate = ledger_rows / raw_ledger[0]
    details.update({"report": report_stats, "report_lines": lines, "raw_report_read": raw_stats,
                    "rebuild_s": round(rebuild_s, 2), "raw_ledger_read_rows_per_s": round(raw_rate),
                    "raw_ledger_sum_group_by_s": round(ledger_sum[0], 3)})
    session.log(f"valuation [{backend}]: report p50 {report_stats['p50_s'] * 1000:.1f} ms, max "
                f"{report_stats['max_s'] * 1000:.1f} ms ({lines:,} lines); rebuild {rate:,.0f} moves/s "
                f"({rebuild_s:.1f} s); raw ledger read {raw_rate:,.0f} rows/s"
                + (f"; rebuild peak {details['rebuild_peak_traced_mib']:.1f} MiB traced" if sqlite_path else ""))
    raw_name = f"raw {how} read of the same item_costs rows joined to items"
    figures = [
        Figure(NAME, f"valuation report, all sites, p50 of {runs} runs ({lines:,} positions, Database.read)", backend,
               "s", report_stats["p50_s"], baseline_name=raw_name, baseline_value=raw_stats["p50_s"],
               target=Target("<=", 1, "s", TARGET_TEXT), details=details),
        Figure(NAME, f"valuation report, all sites, max of {runs} runs", backend, "s", report_stats["max_s"],
               baseline_name=f"{raw_name}, max", baseline_value=raw_stats["max_s"],
               target=Target("<=", 1, "s", TARGET_TEXT)),
        Figure(NAME, f"rebuild_valuation from {move_count:,} ledger rows, one transaction", backend, "rows/s", rate,
               baseline_name=f"raw {how} read of the same ledger rows in the same order",
               baseline_value=raw_rate, details={"rebuild_s": round(rebuild_s, 2)}),
    ]
    if sqlite_path is not None:
        figures.append(Figure(NAME, f"rebuild_valuation peak traced Python memory ({move_count:,} rows)", backend,
                              "MiB", details["rebuild_peak_traced_mib"],
                              baseline_name="size of the SQLite database file it streams",
                              baseline_value=details["ledger_file_mib"]))
    return figures


def run(session: Session) -> list[Figure]:
    from bench.common import postgres_database, skipped, sqlite_url

    item_count = session.size("valuation_items", *ITEMS)
    move_count = session.size("valuation_moves", *MOVES)
    runs = session.size("valuation_runs", *RUNS)
    session.log(f"valuation: {item_count:,} items at {SITES} sites, {move_count:,} moves, {runs} report runs")
    load_before = os.getloadavg()[0]
    path = session.scratch("valuation") / "server.db"
    figures = asyncio.run(_backend_figures(session, "SQLite", sqlite_url(path), item_count, move_count, runs,
                                           sqlite_path=path))
    reason = session.postgres_unavailable()
    if reason is not None:
        figures += [skipped(NAME, "valuation report, all sites, p50", "PostgreSQL", "s", reason),
                    skipped(NAME, "rebuild_valuation", "PostgreSQL", "rows/s", reason)]
    else:
        with postgres_database(session.pg_url) as (url, dsn):
            figures += asyncio.run(_backend_figures(session, "PostgreSQL", url, item_count, move_count, runs,
                                                    pg_dsn=dsn))
    load = max(load_before, os.getloadavg()[0])
    for figure in figures:
        figure.details["load_average_1min"] = round(load, 2)
    return figures
