"""MRP: how long one regenerative ``run_mrp`` takes on a plant-sized plan, and how much memory.

What it measures: wall time of ``erp.manufacturing.mrp.run_mrp`` on a synthetic, seeded plan of
10,000 items in BOMs 5 levels deep (low-level codes 0 to 4) with 50,000 demand lines (quick:
1,000 items, 5,000 demand lines). The run is the whole calculator: checking and indexing the
inputs, low-level codes, netting, lot sizing, lead-time offsets on working calendars,
explosion and pegging, and building the result structs.

How: in a fresh process (``spawn``, so nothing of this one is inherited), pinned to one core with
``os.sched_setaffinity`` where the platform allows it. The process generates the plan (not
timed), runs the baseline, then ``run_mrp`` (median of the repeats) and checks the result: every
planned order's pegging sums to its quantity. Memory is reported two ways:

- ``ru_maxrss`` of that process after the runs: the peak resident size of everything — the
  interpreter with the calculator's imports, the generated inputs and the run — which is what a
  machine must provide;
- the ``tracemalloc`` peak of one more run in a second fresh process, counting only what
  ``run_mrp`` allocates on top of its inputs (tracing slows the run, so it is never timed).

The plan: 15 % of the items are end items (made), then 20 %, 20 %, 20 % and 25 % at levels 1 to
4; a made or phantom item has 2–4 components, mostly from the next level down. Levels 1–2 are
10 % phantoms; level 3 is half made, half bought; level 4 is bought. Lot sizing is 45 %
lot-for-lot, 15 % minimum, 15 % multiple, 10 % both, 15 % fixed quantity; a quarter of the
stocked items have safety stock; 60 % have stock on hand (1 % negative). 3,000 open purchase
orders and 2,000 open work orders (a tenth of that in quick mode) are due between 10 days ago
and 40 days ahead. 85 % of the demand lines are on end items (60 % sales orders, the rest
forecasts), 15 % are spare parts or open work-order components lower down, due from 5 days ago
to 90 days ahead. The plant works Monday to Friday with the 2025 public holidays and their
make-up working days (调休); 20 work centres, a quarter of them on six-day weeks.

Baseline (same process, same plan): a raw BOM explosion — walk the same BOM graph once in
topological order and add up each item's total requirement (demand plus parents' totals ×
quantity per × (1 + scrap)) in Decimal, with no dates, netting, lot sizing or pegging; median of
three. The ratio says how many such walks one MRP run costs.
"""

from __future__ import annotations

import gc
import os
import random
import resource
import statistics
import time
import tracemalloc
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from erp.manufacturing.lot_sizing import LotSizing
from erp.manufacturing.mrp import (
    BomLine, Demand, DemandKind, Item, MrpInput, MrpResult, OnHand, Procurement, ReceiptKind, ScheduledReceipt,
    WorkCentre, run_mrp,
)
from erp.manufacturing.working_calendar import MONDAY_TO_SATURDAY, WorkingCalendar

if TYPE_CHECKING:
    from bench.common import Figure, Session

# bench.common (HTTP client, SQLAlchemy, the server) is imported by ``run`` only: the measured
# process imports this module, and its peak RSS should hold the calculator and the plan, not
# 35 MiB of libraries the run never uses.

NAME = "mrp"
BACKEND = "pure Python, one core"
TARGET_TEXT = "≤ 10 s (10,000 items, 5 levels, 50,000 demand lines)"
SEED = 20250303
RUN_DATE = date(2025, 3, 3)
LEVEL_SHARES = (0.15, 0.20, 0.20, 0.20, 0.25)
D = Decimal

# 2025 public holidays in mainland China and their make-up working days, as announced.
HOLIDAYS_2025 = [
    *(date(2025, 1, 28) + timedelta(days=n) for n in range(8)),  # Spring Festival
    *(date(2025, 4, 4) + timedelta(days=n) for n in range(3)),  # Qingming
    *(date(2025, 5, 1) + timedelta(days=n) for n in range(5)),  # Labour Day
    *(date(2025, 5, 31) + timedelta(days=n) for n in range(3)),  # Dragon Boat
    *(date(2025, 10, 1) + timedelta(days=n) for n in range(8)),  # National Day and Mid-Autumn
]
MAKE_UP_DAYS_2025 = [date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28), date(2025, 10, 11)]


# -- the plan --------------------------------------------------------------------------------


def generate(item_count: int, demand_count: int, *, seed: int = SEED) -> MrpInput:
    """A seeded synthetic plan; see the module docstring for its shape."""
    rng = random.Random(seed)
    plant = WorkingCalendar("plant", holidays=frozenset(HOLIDAYS_2025), extra_working_days=frozenset(MAKE_UP_DAYS_2025))
    six_day = WorkingCalendar("six-day", MONDAY_TO_SATURDAY, frozenset(HOLIDAYS_2025))
    work_centres = tuple(WorkCentre(f"WC-{n:02d}", six_day if n % 4 == 0 else plant) for n in range(20))

    levels: list[list[str]] = []
    for level, share in enumerate(LEVEL_SHARES):
        size = round(item_count * share) if level < len(LEVEL_SHARES) - 1 else item_count - sum(map(len, levels))
        levels.append([f"IT-{level}-{n:05d}" for n in range(size)])
    procurement: dict[str, Procurement] = {}
    for level, ids in enumerate(levels):
        for item_id in ids:
            draw = rng.random()
            if level == 0:
                procurement[item_id] = Procurement.MAKE
            elif level <= 2:
                procurement[item_id] = (Procurement.PHANTOM if draw < 0.10 else
                                        Procurement.BUY if draw < 0.15 else Procurement.MAKE)
            elif level == 3:
                procurement[item_id] = Procurement.MAKE if draw < 0.5 else Procurement.BUY
            else:
                procurement[item_id] = Procurement.BUY

    bom_lines = []
    for level, ids in enumerate(levels[:-1]):
        deeper = [item_id for lower in levels[level + 2:] for item_id in lower]
        for parent in ids:
            if procurement[parent] is Procurement.BUY:
                continue
            components = {rng.choice(levels[level + 1])}
            for _ in range(rng.randint(1, 3)):
                components.add(rng.choice(deeper) if deeper and rng.random() < 0.2 else rng.choice(levels[level + 1]))
            for component in sorted(components):
                scrap = D(0) if rng.random() < 0.7 else D(rng.choice(["0.01", "0.02", "0.05", "0.1"]))
                bom_lines.append(BomLine(parent, component, D(rng.choice(["1", "2", "3", "4", "0.5", "0.25", "1.5"])),
                                         scrap))

    items, on_hand = [], []
    for level, ids in enumerate(levels):
        for item_id in ids:
            kind = procurement[item_id]
            if kind is Procurement.PHANTOM:
                items.append(Item(item_id, kind))
                if rng.random() < 0.2:
                    on_hand.append(OnHand(item_id, D(rng.randint(1, 20))))
                continue
            scale = 10 ** min(level, 3)  # deeper items are needed in larger quantities
            items.append(Item(
                item_id, kind,
                lead_time_days=rng.randint(1, 5) if kind is Procurement.MAKE else rng.randint(2, 15),
                safety_stock=D(rng.randint(1, 20) * scale) if rng.random() < 0.25 else D(0),
                lot_sizing=_lot_sizing(rng, scale),
                work_centre_id=rng.choice(work_centres).work_centre_id if kind is Procurement.MAKE else None,
            ))
            draw = rng.random()
            if draw < 0.01:
                on_hand.append(OnHand(item_id, D(-rng.randint(1, 10))))
            elif draw < 0.6:
                on_hand.append(OnHand(item_id, D(rng.randint(0, 50) * scale)))

    bought = [item.item_id for item in items if item.procurement is Procurement.BUY]
    made = [item.item_id for item in items if item.procurement is Procurement.MAKE]
    receipts = []
    for kind, pool, count in ((ReceiptKind.PURCHASE_ORDER, bought, 3_000), (ReceiptKind.WORK_ORDER, made, 2_000)):
        for n in range(count * item_count // 10_000):
            due = RUN_DATE + timedelta(days=rng.randint(-10, 40))
            receipts.append(ScheduledReceipt(f"{kind.value}-{n:05d}", rng.choice(pool), kind,
                                             D(rng.randint(1, 20) * 50), due))

    lower = [item_id for ids in levels[1:] for item_id in ids]
    demands = []
    for n in range(demand_count):
        due = RUN_DATE + timedelta(days=rng.randint(-5, 90))
        quantity = D(rng.randint(1, 100)) if rng.random() < 0.9 else D(rng.randint(1, 100)) + D("0.5")
        if rng.random() < 0.85:
            kind = DemandKind.SALES_ORDER if rng.random() < 0.6 else DemandKind.FORECAST
            demands.append(Demand(f"D-{n:06d}", rng.choice(levels[0]), kind, quantity, due))
        else:
            kind = DemandKind.SALES_ORDER if rng.random() < 0.7 else DemandKind.WORK_ORDER_COMPONENT
            demands.append(Demand(f"D-{n:06d}", rng.choice(lower), kind, quantity, due))
    return MrpInput(RUN_DATE, plant, tuple(items), tuple(bom_lines), tuple(demands), tuple(on_hand),
                    tuple(receipts), work_centres)


def _lot_sizing(rng: random.Random, scale: int) -> LotSizing:
    draw = rng.random()
    if draw < 0.45:
        return LotSizing.lot_for_lot()
    if draw < 0.60:
        return LotSizing.lot_for_lot(minimum=D(rng.choice([50, 100, 200, 500]) * scale))
    if draw < 0.75:
        return LotSizing.lot_for_lot(multiple=D(rng.choice([10, 25, 50, 100]) * scale))
    if draw < 0.85:
        return LotSizing.lot_for_lot(minimum=D(rng.choice([100, 200]) * scale),
                                     multiple=D(rng.choice([10, 25, 50]) * scale))
    return LotSizing.fixed(D(rng.choice([100, 200, 500, 1000]) * scale))


# -- the baseline ----------------------------------------------------------------------------


def raw_bom_explosion(data: MrpInput) -> dict[str, Decimal]:
    """Each item's total requirement over the whole horizon: one walk of the BOM, nothing else."""
    components: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    parents_left: dict[str, int] = dict.fromkeys((item.item_id for item in data.items), 0)
    for line in data.bom_lines:
        components[line.parent_id].append((line.component_id, line.quantity_per * (1 + line.scrap_factor)))
        parents_left[line.component_id] += 1
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for demand in data.demands:
        totals[demand.item_id] += demand.quantity
    ready = [item_id for item_id, count in parents_left.items() if count == 0]
    while ready:
        parent = ready.pop()
        total = totals[parent]
        for component, factor in components.get(parent, ()):
            totals[component] += total * factor
            parents_left[component] -= 1
            if not parents_left[component]:
                ready.append(component)
    return totals


# -- the measured process --------------------------------------------------------------------


def _pin_to_one_core() -> int | None:
    """Pin this process to one allowed core (the last: the first tends to take interrupts)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def _shape(data: MrpInput, result: MrpResult) -> dict[str, Any]:
    orders = result.planned_orders
    pegs = sum(len(order.pegging) for order in orders)
    bad = [order.order_id for order in orders if sum(peg.quantity for peg in order.pegging) != order.quantity]
    if bad:
        raise AssertionError(f"pegging does not sum to the quantity for {len(bad)} planned orders, e.g. {bad[0]}")
    return {
        "items": len(data.items), "bom_lines": len(data.bom_lines), "demand_lines": len(data.demands),
        "scheduled_receipts": len(data.scheduled_receipts), "levels": max(result.low_level_codes.values()) + 1,
        "planned_orders": len(orders),
        "planned_purchase_orders": sum(order.kind.value == "purchase_order" for order in orders),
        "planned_work_orders": sum(order.kind.value == "work_order" for order in orders),
        "past_due": sum(bool(order.exceptions) for order in orders),
        "pegs": pegs,
    }


def measure_timed(item_count: int, demand_count: int, repeats: int) -> dict[str, Any]:
    """Run in a fresh process: baseline and ``run_mrp`` timings, the plan's shape, ru_maxrss."""
    core = _pin_to_one_core()
    load_before = os.getloadavg()
    started = time.perf_counter()
    data = generate(item_count, demand_count)
    generation_seconds = time.perf_counter() - started
    gc.collect()
    rss_inputs_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    baseline = []
    for _ in range(3):
        started = time.perf_counter()
        raw_bom_explosion(data)
        baseline.append(time.perf_counter() - started)
    seconds, result = [], None
    for _ in range(repeats):
        result = None  # the previous result is freed first, as in a service running once a night
        gc.collect()
        started = time.perf_counter()
        result = run_mrp(data)
        seconds.append(time.perf_counter() - started)
    assert result is not None
    return {"core": core, "generation_seconds": generation_seconds, "baseline_seconds": baseline,
            "seconds": seconds, "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "ru_maxrss_after_inputs_kib": rss_inputs_kib, "load_average_before": load_before,
            "load_average_after": os.getloadavg(), **_shape(data, result)}


def measure_traced(item_count: int, demand_count: int) -> dict[str, Any]:
    """Run in a fresh process: tracemalloc peak and retained size of one ``run_mrp``."""
    _pin_to_one_core()
    data = generate(item_count, demand_count)
    gc.collect()
    tracemalloc.start()
    result = run_mrp(data)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"peak_bytes": peak, "result_bytes": retained, "planned_orders": len(result.planned_orders)}


def _in_fresh_process(function, *args) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


# -- the benchmark ---------------------------------------------------------------------------


def run(session: Session) -> list[Figure]:
    from bench.common import Figure, Target

    item_count = session.size("mrp_items", 10_000, 1_000)
    demand_count = session.size("mrp_demands", 50_000, 5_000)
    repeats = session.size("mrp_repeats", 3, 3)
    session.log(f"mrp: {item_count:,} items, {demand_count:,} demand lines, {repeats} timed runs in a fresh process")
    timed = _in_fresh_process(measure_timed, item_count, demand_count, repeats)
    seconds = statistics.median(timed["seconds"])
    baseline = statistics.median(timed["baseline_seconds"])
    session.log(f"mrp: run_mrp {seconds:.2f} s (runs {', '.join(f'{s:.2f}' for s in timed['seconds'])}), "
                f"raw BOM explosion {baseline * 1000:.1f} ms, {timed['planned_orders']:,} planned orders")
    session.log("mrp: one more run under tracemalloc in a fresh process")
    traced = _in_fresh_process(measure_traced, item_count, demand_count)

    load = max(timed["load_average_before"][0], timed["load_average_after"][0])
    if load > (os.cpu_count() or 1):
        session.notes.append(f"mrp: the 1-minute load average was {load:.1f} on {os.cpu_count()} cores around the "
                             f"timed runs: other processes may have shared the pinned core and inflated the wall time.")
    pinned = f"core {timed['core']}" if timed["core"] is not None else "not pinned (no sched_setaffinity)"
    details = {key: value for key, value in timed.items() if key not in ("seconds", "baseline_seconds")}
    details.update(seconds=[round(s, 3) for s in timed["seconds"]],
                   baseline_seconds=[round(s, 4) for s in timed["baseline_seconds"]],
                   generation_seconds=round(timed["generation_seconds"], 2), pinned=pinned)
    mib = 1024 * 1024
    return [
        Figure(NAME, f"run_mrp wall time, {item_count:,} items, {demand_count:,} demand lines", BACKEND, "s",
               seconds, baseline_name="raw BOM explosion", baseline_value=baseline,
               target=Target("<=", 10, "s", TARGET_TEXT), details=details),
        Figure(NAME, "peak RSS of the run's process (ru_maxrss: interpreter, inputs, run)", BACKEND, "MiB",
               timed["ru_maxrss_kib"] / 1024,
               details={"ru_maxrss_kib": timed["ru_maxrss_kib"],
                        "ru_maxrss_after_generating_inputs_kib": timed["ru_maxrss_after_inputs_kib"]}),
        Figure(NAME, "peak Python allocations of run_mrp (tracemalloc, inputs excluded)", BACKEND, "MiB",
               traced["peak_bytes"] / mib,
               details={"peak_bytes": traced["peak_bytes"], "result_bytes_retained": traced["result_bytes"]}),
    ]
