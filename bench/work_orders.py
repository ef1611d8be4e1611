"""Work orders: completions with backflush a server applies per second, pushed from a shop-floor device.

What it measures: wall time of ``EdgeClient.push()`` sending 5,000 ``manufacturing.report_completion``
mutations (500 with ``--quick``; ``--completions N``) in batches of 500
(``edge_client.client.PUSH_BATCH``) to a single server process (``server.process.ServerProcess``)
on SQLite, over HTTP on 127.0.0.1. Each completion is one unit of a gearbox whose released BOM has
five backflushed components (two with a scrap allowance), so the server's handler appends six
stock moves (five ``wo_backflush`` at the line side, one ``wo_receipt`` of the finished good),
updates six on-hand rows and the five requirement lines, and the work order's completed quantity,
with the push's sequence checks, mutation log and ``last_applied_seq`` around it. The
completions rotate over 20 released orders of 1,000,000 units each (so none completes and they
all stay in progress); the warehouse's negative-stock policy is ``allow``, as in ``push``, so no
inventory exception is raised for the components the benchmark never received.

How: master data, the BOM and the orders are made through the HQ API; a device enrolled as
``shop_floor_operator`` syncs them, then the completions are made locally with ``client.run(...)``
(optimistic backflush on the replica included; never part of the figure); only
``client.push()`` is timed. Afterwards the server must have applied every one, the orders'
completed quantities must add up to the count, and every order must hold 6 moves per completion.

Baseline (same run): raw ``sqlite3`` ``executemany`` of the same rows (six stock moves per
completion, as the server stores them) into a fresh ``stock_moves`` table (same definition and
indexes), one commit per 500 completions as a push batch commits once; median of three runs,
reported as completions per second. The ratio says what the work-order rules, on-hand upkeep
and sync bookkeeping cost over writing the ledger rows alone.
"""

from __future__ import annotations

import statistics
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import (
    Figure, Session, Target, fresh_stock_moves_file, running_server, sqlite_url, stopwatch, timed_inserts,
)
from edge_client.client import PUSH_BATCH, EdgeClient
from erp.manufacturing.completion import ReportCompletion, backflush_quantity, completion_move_id
from sync.ids import new_id

NAME = "work_orders"
COMPLETIONS = (5_000, 500)  # full, quick
ORDERS = 20
# Quantity per gearbox and scrap factor of the five backflushed components.
COMPONENTS = (("1", "0"), ("2", "0.02"), ("4", "0"), ("1", "0.05"), ("8", "0"))
TARGET = Target(">=", 500, "completions/s", "≥ 500 completions/s")
METRIC = "completions/s applied (5 backflushed components + 1 receipt each, batches of 500)"
DEVICE_ROLE = "shop_floor_operator"


def create_plant(server: Any) -> dict[str, Any]:
    """A factory site, a gearbox with a released five-component BOM, and released orders, via HQ."""
    with server.hq_client() as hq:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = hq.post(path, json=body)
            response.raise_for_status()
            return response.json()

        site = post("/api/v1/sites", {"code": "F-BENCH", "name": "基准工厂", "kind": "factory"})["id"]
        post("/api/v1/units", {"code": "PCS", "name": "件"})
        product = post("/api/v1/items", {"sku": "FG-GEARBOX", "name": "减速机", "unit_code": "PCS"})["id"]
        components = [post("/api/v1/items", {"sku": f"C-{i}", "name": f"零件 {i}", "unit_code": "PCS"})["id"]
                      for i in range(len(COMPONENTS))]
        warehouse = post("/api/v1/warehouses", {"site_id": site, "code": "W-MFG", "name": "车间库",
                                                "negative_stock_policy": "allow"})["id"]
        line_side, finished = (post("/api/v1/locations", {"warehouse_id": warehouse, "code": code, "name": name})["id"]
                               for code, name in (("LINE-1", "线边"), ("FG-1", "成品")))
        bom = post("/api/v1/manufacturing/boms", {"item_id": product})["id"]
        for component, (quantity, scrap) in zip(components, COMPONENTS):
            post(f"/api/v1/manufacturing/boms/{bom}/lines", {"component_item_id": component, "quantity_per": quantity,
                                                             "scrap_factor": scrap, "backflush": True})
        response = hq.post(f"/api/v1/manufacturing/boms/{bom}/release", json={})
        response.raise_for_status()
        orders = []
        for n in range(ORDERS):
            order = post("/api/v1/manufacturing/work-orders", {
                "site_id": site, "number": f"WO-BENCH-{n:03d}", "item_id": product, "quantity": "1000000",
                "due_date": "2026-12-31", "issue_location_id": line_side, "receipt_location_id": finished})
            response = hq.post(f"/api/v1/manufacturing/work-orders/{order['id']}/release", json={})
            response.raise_for_status()
            orders.append(order["id"])
        response = hq.post("/api/v1/admin/enrollment-codes", json={"site_id": site, "role": DEVICE_ROLE})
        response.raise_for_status()
    return {"site": site, "product": product, "components": components, "line_side": line_side,
            "finished": finished, "orders": orders, "code": response.json()["code"]}


def server_totals(server: Any, orders: list[str]) -> tuple[Decimal, int]:
    """The orders' completed quantities and their stock moves, as HQ reports them."""
    completed, moves = Decimal(0), 0
    with server.hq_client() as hq:
        for order_id in orders:
            response = hq.get(f"/api/v1/manufacturing/work-orders/{order_id}")
            response.raise_for_status()
            detail = response.json()
            completed += Decimal(detail["work_order"]["completed_quantity"])
            moves += len(detail["moves"])
    return completed, moves


def measure(session: Session, work: Path, count: int) -> dict[str, Any]:
    with running_server(sqlite_url(work / "server.db"), work / "server.log") as server:
        plant = create_plant(server)
        client = EdgeClient.enroll(work / "device", server_url=server.url, site_id=plant["site"],
                                   device_name="产线平板", enrollment_code=plant["code"])
        try:
            client.sync_once()  # the device needs the orders and their requirement lines
            session.log(f"work_orders: making {count:,} completions locally with client.run (not timed)")
            elapsed = stopwatch()
            now = datetime.now(timezone.utc)
            for i in range(count):
                client.run("manufacturing.report_completion", ReportCompletion(
                    completion_id=new_id(), work_order_id=plant["orders"][i % ORDERS], quantity=Decimal(1),
                    occurred_at=now))
            local_seconds = elapsed()
            session.log("work_orders: timing EdgeClient.push()")
            elapsed = stopwatch()
            report = client.push()
            seconds = elapsed()
        finally:
            client.close()
        if report.applied != count or report.rejected or report.duplicates:
            raise AssertionError(f"push applied {report.applied}, rejected {report.rejected}, "
                                 f"duplicates {report.duplicates}; expected {count} applied")
        completed, moves = server_totals(server, plant["orders"])
        if completed != count or moves != count * (len(COMPONENTS) + 1):
            raise AssertionError(f"the server holds {completed} completed units and {moves} moves; "
                                 f"expected {count} and {count * (len(COMPONENTS) + 1)}")
    rate = count / seconds
    session.log(f"work_orders: {count:,} completions in {seconds:.2f} s = {rate:,.0f}/s "
                f"(preparing them took {local_seconds:.1f} s)")
    return {"rate": rate, "seconds": seconds, "local_seconds": local_seconds, "plant": plant}


def baseline_rows(count: int, plant: dict[str, Any]) -> list[tuple]:
    """The stock-move rows ``count`` completions write, as the server stores them on SQLite."""
    device_id, rows = new_id(), []
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(count):
        completion = str(uuid.UUID(int=i))
        order = plant["orders"][i % ORDERS]
        moment = (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        hlc = f"{1_767_225_600_000 + i:015d}-00000-{device_id[-12:]}"
        legs = [("receipt", "wo_receipt", plant["product"], plant["finished"], Decimal(1))]
        legs += [(str(n), "wo_backflush", component, plant["line_side"],
                  -backflush_quantity(Decimal(1), Decimal(quantity) * (1 + Decimal(scrap))))
                 for n, (component, (quantity, scrap)) in enumerate(zip(plant["components"], COMPONENTS), start=1)]
        for leg, kind, item, location, quantity in legs:
            rows.append((completion_move_id(completion, leg), plant["site"], kind, item, location, str(quantity),
                         order, None, "WO-BENCH", moment, device_id, i + 1, hlc, None, 1))
    return rows


def sqlite_baseline(path: Path, rows: list[tuple]) -> float:
    conn = fresh_stock_moves_file(path)
    try:
        return timed_inserts(conn, rows, PUSH_BATCH * (len(COMPONENTS) + 1))
    finally:
        conn.close()


def run(session: Session) -> list[Figure]:
    count = session.size("completions", *COMPLETIONS)
    work = session.scratch(f"{NAME}/sqlite")
    measured = measure(session, work, count)

    session.log(f"work_orders: baseline (raw sqlite3 executemany of {count * (len(COMPONENTS) + 1):,} stock-move "
                f"rows, a commit per {PUSH_BATCH} completions)")
    rows = baseline_rows(count, measured["plant"])
    baseline_seconds = statistics.median(sqlite_baseline(work / f"baseline-{i}.db", rows) for i in range(3))
    return [Figure(NAME, METRIC, "SQLite", "completions/s", measured["rate"],
                   baseline_name="raw sqlite3 executemany of the same stock-move rows",
                   baseline_value=count / baseline_seconds, baseline_unit="completions/s (6 rows each)",
                   target=TARGET,
                   details={"completions": count, "orders": ORDERS, "moves_per_completion": len(COMPONENTS) + 1,
                            "batch": PUSH_BATCH, "seconds": round(measured["seconds"], 3),
                            "baseline_rows": len(rows), "baseline_seconds": round(baseline_seconds, 3),
                            "preparation_seconds_not_timed": round(measured["local_seconds"], 2)})]
