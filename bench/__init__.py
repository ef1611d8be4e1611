"""Benchmarks of the sync engine against its performance targets (``./dev bench``).

Each benchmark is a module with a ``run(session)`` function returning ``Figure`` rows:

- ``bootstrap``: a fresh device downloads one million stock moves over HTTP;
- ``push``: a server applies batches of ``inventory.receive`` mutations (SQLite, PostgreSQL);
- ``push_batches``: the same push throughput for batches of 1 to 1,000 mutations;
- ``pull``: a device's pull costs what changed since its cursor, not what the site holds;
- ``propagation``: a receipt made on one device becomes visible on another, online;
- ``concurrency``: up to 500 devices push and pull at once against one server process;
- ``idle``: one server process holds 2,000 idle live streams, and what each costs in memory;
- ``mrp``: a regenerative MRP run over 10,000 items, BOMs 5 levels deep, 50,000 demand lines;
- ``fleet``: 100 device processes through simulated outages, then 1,000 offline mutations
  each, reconnecting at once: time to converge, and the audit (``faults.fleet``);
- ``crash``: 1,000 seeded SIGKILL crash trials of servers and devices, audited (``faults.crash``);
- ``mobile``: the tablet app headless: start-up to home with 100,000 items, screen switches,
  scan response and pinyin search;
- ``work_orders``: a server applies work-order completions pushed by a shop-floor device, each
  backflushing five components and receiving the finished good;
- ``availability``: one item's availability at one site (on-hand − reservations), 10,000 items
  and 50,000 reservations, in process and through the HQ API.
- ``valuation``: the stock valuation report over 10,000 items at two sites (target ≤ 1 s), and the
  rebuild of valuation from 1,000,000 ledger rows (rows/s, peak memory).

Every figure is reported as an absolute number and as a ratio to a baseline measured in the
same run on the same machine, so results from different machines stay comparable. ``python -m
bench`` writes ``bench/results/latest.json`` and ``bench/results/latest.md``; see
docs/benchmarks.md.
"""

BENCHMARKS = ("bootstrap", "push", "push_batches", "pull", "propagation", "concurrency", "idle", "mrp", "fleet",
              "crash", "mobile", "work_orders", "availability",
              "valuation")
