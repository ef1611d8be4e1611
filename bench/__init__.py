"""Benchmarks of the sync engine against its performance targets (``./dev bench``).

Each benchmark is a module with a ``run(session)`` function returning ``Figure`` rows:

- ``bootstrap``: a fresh device downloads one million stock moves over HTTP;
- ``push``: a server applies batches of ``inventory.receive`` mutations (SQLite, PostgreSQL);
- ``propagation``: a receipt made on one device becomes visible on another, online.

Every figure is reported as an absolute number and as a ratio to a baseline measured in the
same run on the same machine, so results from different machines stay comparable. ``python -m
bench`` writes ``bench/results/latest.json`` and ``bench/results/latest.md``; see
docs/benchmarks.md.
"""

BENCHMARKS = ("bootstrap", "push", "propagation")
