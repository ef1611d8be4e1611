"""Availability: how long one lookup of an item's availability at one site takes (target ≤ 5 ms).

What it measures: ``erp.sales.availability.availability(conn, item, site)`` — on-hand summed
over the site's locations minus the item's open reservations there — run the way the HQ API
runs it (``server.db.Database.read``: one read transaction per lookup, on SQLite through the
server's thread, on PostgreSQL through its async engine), for random (item, site) pairs; and
on SQLite also end to end, ``GET /api/v1/sales/availability?site_id&item_id`` against a real
server process on the same data (HTTP, authentication, permission check, JSON). The target
applies to the lookup's p99 and to the HTTP request's median; the HTTP p99 is reported beside
the p99 of ``GET /health`` on the same server, which is mostly what it measures.

The data (seeded): 3 sites of 4 locations each; 10,000 items (quick: 1,000), each stocked at 1–3
locations of a site with probability 0.8 per site (about 48,000 on-hand rows); 50,000
reservations (quick: 5,000), 35 % of them open, 75 % of them on the top fifth of the items and
5 % on the ten best sellers, with the per-item totals (``reserved_stock``) the reservations
keep. Rows are inserted directly into a database migrated to head (the benchmark measures
reads, not how the rows got there). Besides the random pairs, the item and site with the most
open reservations are looked up on their own (details); every answer checked is the data set's
on-hand minus its open reservations.

Baselines, same database, same run: a raw primary-key read of one on-hand row (``sqlite3``
module on the file; ``asyncpg`` ``fetchrow`` on PostgreSQL), and for the HTTP row ``GET
/health`` on the same server (the cost of an HTTP round trip that touches no data).
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from erp.inventory.item import items, units
from erp.inventory.on_hand import on_hand
from erp.inventory.warehouse import locations, warehouses
from erp.org.site import sites
from erp.sales.availability import availability
from erp.sales.reservation import reserved_stock, stock_reservations

if TYPE_CHECKING:
    from bench.common import Figure, Session

NAME = "availability"
TARGET_TEXT = "≤ 5 ms for one item at one site"
SEED = 20260505
SITES, LOCATIONS_PER_SITE = 3, 4
OPEN_SHARE = 0.35
CHUNK = 5_000
# (full, quick) sizes
ITEMS = (10_000, 1_000)
RESERVATIONS = (50_000, 5_000)
LOOKUPS = (2_000, 300)


@dataclass
class Shape:
    """The seeded data set: ids, and the rows to insert."""

    site_ids: list[str]
    item_ids: list[str]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hottest: tuple[str, str] = ("", "")  # (item, site) with the most open reservations
    hottest_open: int = 0  # how many

    def count(self, table: str) -> int:
        return len(self.rows[table])


def generate(item_count: int, reservation_count: int, *, seed: int = SEED) -> Shape:
    rng = random.Random(seed)
    site_ids = [f"site-{n}" for n in range(SITES)]
    item_ids = [f"item-{n:06d}" for n in range(item_count)]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in ("sites", "units", "items", "warehouses",
                                                                    "locations", "on_hand", "stock_reservations",
                                                                    "reserved_stock")}
    rows["units"].append({"code": "PCS", "name": "件"})
    by_site: dict[str, list[str]] = {}
    for site in site_ids:
        rows["sites"].append({"id": site, "code": site.upper(), "name": f"仓 {site}", "kind": "warehouse"})
        rows["warehouses"].append({"id": f"wh-{site}", "site_id": site, "code": f"W-{site}", "name": site,
                                   "negative_stock_policy": "flag"})
        by_site[site] = [f"loc-{site}-{n}" for n in range(LOCATIONS_PER_SITE)]
        for location in by_site[site]:
            rows["locations"].append({"id": location, "site_id": site, "warehouse_id": f"wh-{site}",
                                      "code": location, "name": location})
    for item in item_ids:
        rows["items"].append({"id": item, "sku": item.upper(), "name": f"物料 {item}", "unit_code": "PCS",
                              "active": True})
        for site in site_ids:
            if rng.random() < 0.8:
                for location in rng.sample(by_site[site], rng.randint(1, 3)):
                    rows["on_hand"].append({"item_id": item, "location_id": location, "site_id": site,
                                            "quantity": Decimal(rng.randint(0, 5_000))})
    at = datetime(2026, 5, 5, 1, tzinfo=timezone.utc)
    open_count: dict[tuple[str, str], int] = {}
    totals: dict[tuple[str, str], Decimal] = {}  # what reserved_stock holds: kept by the reservations
    for n in range(reservation_count):
        # Best sellers: 5 % of the reservations on the top ten items, 75 % on the top fifth.
        draw = rng.random()
        item = item_ids[rng.randrange(min(10, item_count)) if draw < 0.05 else
                        rng.randrange(max(item_count // 5, 1)) if draw < 0.80 else rng.randrange(item_count)]
        site = rng.choice(site_ids)
        is_open = rng.random() < OPEN_SHARE
        rows["stock_reservations"].append({
            "order_line_id": f"line-{n:07d}", "site_id": site, "order_id": f"order-{n // 3:07d}", "item_id": item,
            "quantity": Decimal(rng.randint(1, 200)) if is_open else Decimal(0),
            "status": "open" if is_open else "released", "released_reason": None if is_open else "delivered",
            "reserved_at": at, "released_at": None if is_open else at})
        if is_open:
            open_count[(item, site)] = open_count.get((item, site), 0) + 1
            totals[(item, site)] = totals.get((item, site), Decimal(0)) + rows["stock_reservations"][-1]["quantity"]
    rows["reserved_stock"] = [{"item_id": item, "site_id": site, "quantity": quantity}
                              for (item, site), quantity in sorted(totals.items())]
    hottest = max(open_count, key=lambda key: open_count[key]) if open_count else (item_ids[0], site_ids[0])
    return Shape(site_ids, item_ids, rows, hottest, open_count.get(hottest, 0))


TABLES = {"sites": sites, "units": units, "items": items, "warehouses": warehouses, "locations": locations,
          "on_hand": on_hand, "stock_reservations": stock_reservations, "reserved_stock": reserved_stock}


async def populate(db: Any, shape: Shape) -> None:
    """Migrate to head, then insert the data set in chunks (parents first, for PostgreSQL's keys)."""
    await db.migrate()
    for name, table in TABLES.items():
        rows = shape.rows[name]
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            await db.write(lambda conn, chunk=chunk, table=table: conn.execute(insert(table), chunk))


def pairs(shape: Shape, count: int, *, seed: int = SEED + 1) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(rng.choice(shape.item_ids), rng.choice(shape.site_ids)) for _ in range(count)]


def summary(seconds: list[float]) -> dict[str, float]:
    from bench.common import percentile

    ms = [s * 1000 for s in seconds]
    return {"median_ms": statistics.median(ms), "p90_ms": percentile(ms, 90), "p99_ms": percentile(ms, 99),
            "max_ms": max(ms), "samples": len(ms)}


async def time_reads(db: Any, lookups: list[tuple[str, str]]) -> list[float]:
    for item, site in lookups[:20]:  # warm the pool, the statement cache and the page cache
        await db.read(availability, item, site)
    seconds = []
    for item, site in lookups:
        started = time.perf_counter()
        await db.read(availability, item, site)
        seconds.append(time.perf_counter() - started)
    return seconds


def raw_sqlite_lookups(path: Path, shape: Shape, lookups: list[tuple[str, str]]) -> list[float]:
    """The baseline: one on-hand row by its primary key, with the sqlite3 module."""
    keys = [(row["item_id"], row["location_id"]) for row in shape.rows["on_hand"]]
    rng = random.Random(SEED + 2)
    chosen = [rng.choice(keys) for _ in lookups]
    connection = sqlite3.connect(path)
    try:
        for key in chosen[:20]:
            connection.execute("SELECT quantity FROM on_hand WHERE item_id = ? AND location_id = ?", key).fetchone()
        seconds = []
        for key in chosen:
            started = time.perf_counter()
            connection.execute("SELECT quantity FROM on_hand WHERE item_id = ? AND location_id = ?", key).fetchone()
            seconds.append(time.perf_counter() - started)
        return seconds
    finally:
        connection.close()


async def raw_postgres_lookups(dsn: str, shape: Shape, lookups: list[tuple[str, str]]) -> list[float]:
    import asyncpg

    keys = [(row["item_id"], row["location_id"]) for row in shape.rows["on_hand"]]
    rng = random.Random(SEED + 2)
    chosen = [rng.choice(keys) for _ in lookups]
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        statement = await connection.prepare("SELECT quantity FROM on_hand WHERE item_id = $1 AND location_id = $2")
        for key in chosen[:20]:
            await statement.fetchrow(*key)
        seconds = []
        for key in chosen:
            started = time.perf_counter()
            await statement.fetchrow(*key)
            seconds.append(time.perf_counter() - started)
        return seconds
    finally:
        await connection.close()


def http_lookups(server: Any, lookups: list[tuple[str, str]]) -> tuple[list[float], list[float]]:
    """(availability route, GET /health) round trips over one keep-alive connection."""
    with server.hq_client(timeout=30) as client:
        def one(path: str, params: dict | None = None) -> float:
            started = time.perf_counter()
            response = client.get(path, params=params)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            return elapsed

        for item, site in lookups[:20]:
            one("/api/v1/sales/availability", {"site_id": site, "item_id": item})
            one("/health")
        route = [one("/api/v1/sales/availability", {"site_id": site, "item_id": item}) for item, site in lookups]
        health = [one("/health") for _ in lookups]
    return route, health


def _check(shape: Shape, found: Any, item: str, site: str) -> None:
    """The lookup's answer is the data set's: Σ on-hand − Σ open reservations."""
    held = sum((r["quantity"] for r in shape.rows["on_hand"] if r["item_id"] == item and r["site_id"] == site),
               Decimal(0))
    reserved = sum((r["quantity"] for r in shape.rows["stock_reservations"]
                    if r["item_id"] == item and r["site_id"] == site and r["status"] == "open"), Decimal(0))
    if (found.on_hand, found.reserved, found.available) != (held, reserved, held - reserved):
        raise AssertionError(f"availability of {item} at {site}: got {found}, expected {held} − {reserved}")


async def _backend_figures(session: Session, backend: str, db_url: str, shape: Shape, lookups: list[tuple[str, str]],
                           *, sqlite_path: Path | None = None, pg_dsn: str | None = None) -> list[Figure]:
    from bench.common import Figure, Target
    from server.db import Database

    db = Database(db_url)
    try:
        started = time.perf_counter()
        await populate(db, shape)
        loaded = time.perf_counter() - started
        session.log(f"availability [{backend}]: {shape.count('on_hand'):,} on-hand rows, "
                    f"{shape.count('stock_reservations'):,} reservations loaded in {loaded:.1f} s")
        for item, site in (*lookups[:25], shape.hottest):
            _check(shape, await db.read(availability, item, site), item, site)
        reads = summary(await time_reads(db, lookups))
        hottest = summary(await time_reads(db, [shape.hottest] * min(len(lookups), 200)))
    finally:
        await db.dispose()
    if sqlite_path is not None:
        raw = summary(raw_sqlite_lookups(sqlite_path, shape, lookups))
        raw_name = "raw sqlite3 primary-key read of one on-hand row"
    else:
        raw = summary(await raw_postgres_lookups(pg_dsn, shape, lookups))
        raw_name = "raw asyncpg primary-key read of one on-hand row (prepared)"
    details = {"lookups": reads, "hottest_item": {"item_id": shape.hottest[0], "site_id": shape.hottest[1],
                                                  "open_reservations": shape.hottest_open, **hottest},
               "baseline": raw, "on_hand_rows": shape.count("on_hand"),
               "reservations": shape.count("stock_reservations"), "items": len(shape.item_ids)}
    session.log(f"availability [{backend}]: median {reads['median_ms']:.3f} ms, p99 {reads['p99_ms']:.3f} ms "
                f"(hottest item p99 {hottest['p99_ms']:.3f} ms); raw PK read median {raw['median_ms']:.4f} ms")
    how = "Database.read(availability), one read transaction each"
    return [
        Figure(NAME, f"availability(item, site), median of {reads['samples']:,} lookups ({how})", backend, "ms",
               reads["median_ms"], baseline_name=raw_name, baseline_value=raw["median_ms"], details=details),
        Figure(NAME, f"availability(item, site), p99 of {reads['samples']:,} lookups ({how})", backend, "ms",
               reads["p99_ms"], baseline_name=f"{raw_name}, p99", baseline_value=raw["p99_ms"],
               target=Target("<=", 5, "ms", TARGET_TEXT), details={"hottest_item_p99_ms": hottest["p99_ms"]}),
    ]


def run(session: Session) -> list[Figure]:
    from bench.common import Figure, Target, postgres_database, running_server, skipped, sqlite_url

    item_count = session.size("availability_items", *ITEMS)
    reservation_count = session.size("availability_reservations", *RESERVATIONS)
    lookup_count = session.size("availability_lookups", *LOOKUPS)
    session.log(f"availability: {item_count:,} items, {reservation_count:,} reservations, {lookup_count:,} lookups")
    shape = generate(item_count, reservation_count)
    lookups = pairs(shape, lookup_count)
    figures: list[Figure] = []
    load_before = os.getloadavg()[0]

    path = session.scratch("availability") / "server.db"
    figures += asyncio.run(_backend_figures(session, "SQLite", sqlite_url(path), shape, lookups, sqlite_path=path))
    with running_server(sqlite_url(path), session.scratch("availability") / "server.log") as server:
        route, health = (summary(s) for s in http_lookups(server, lookups))
    session.log(f"availability [SQLite, HTTP]: median {route['median_ms']:.3f} ms, p99 {route['p99_ms']:.3f} ms; "
                f"GET /health median {health['median_ms']:.3f} ms")
    what = "GET /api/v1/sales/availability?site_id&item_id"
    figures += [
        Figure(NAME, f"{what}, median of {route['samples']:,} requests (server process)", "SQLite", "ms",
               route["median_ms"], baseline_name="GET /health on the same server", baseline_value=health["median_ms"],
               target=Target("<=", 5, "ms", TARGET_TEXT + ", through the HQ API"),
               details={"route": route, "health": health}),
        Figure(NAME, f"{what}, p99 of {route['samples']:,} requests (server process)", "SQLite", "ms",
               route["p99_ms"], baseline_name="GET /health on the same server, p99", baseline_value=health["p99_ms"]),
    ]

    reason = session.postgres_unavailable()
    if reason is not None:
        for metric in ("median", "p99"):
            figures.append(skipped(NAME, f"availability(item, site), {metric}", "PostgreSQL", "ms", reason,
                                   Target("<=", 5, "ms", TARGET_TEXT) if metric == "p99" else None))
    else:
        with postgres_database(session.pg_url) as (url, dsn):
            figures += asyncio.run(_backend_figures(session, "PostgreSQL", url, shape, lookups, pg_dsn=dsn))
    load = max(load_before, os.getloadavg()[0])
    for figure in figures:
        figure.details["load_average_1min"] = round(load, 2)
    if load > (os.cpu_count() or 1):
        session.notes.append(f"availability: the 1-minute load average was {load:.1f} on {os.cpu_count()} cores: "
                             "other processes competed for the CPU, which shows in the tails (p99) first.")
    return figures
