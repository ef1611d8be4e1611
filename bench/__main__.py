"""``python -m bench``: run the benchmarks and write bench/results/latest.{json,md}.

A benchmark that fails is recorded as failed (with its error) and the others still run; the
exit status is 1 if any failed, 0 otherwise. Missed targets are results, not failures.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import shutil
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from bench import BENCHMARKS, availability, concurrency, idle, mobile, pull, push_batches, valuation, work_orders
from bench.common import DEFAULT_PG, Figure, Session, machine_facts
from bench.report import markdown, write


def _counts(text: str, exactly: int | None = None) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1 or (exactly is not None and len(counts) != exactly):
        how_many = f"{exactly} " if exactly else ""
        raise argparse.ArgumentTypeError(f"expected {how_many}positive whole numbers separated by commas, got {text!r}")
    return counts


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test in well under a minute")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help=f"run only this benchmark (repeatable, or comma-separated): {', '.join(BENCHMARKS)}")
    parser.add_argument("--pg", default=DEFAULT_PG, metavar="URL",
                        help=f"PostgreSQL server for the PostgreSQL rows (default {DEFAULT_PG}); "
                             "a database is created there and dropped afterwards")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results",
                        help="directory for latest.json and latest.md (default bench/results)")
    parser.add_argument("--rows", type=int, help="bootstrap: stock moves to download (default 1,000,000; quick 50,000)")
    parser.add_argument("--mutations", type=int, help="push: mutations to apply (default 20,000; quick 2,000)")
    parser.add_argument("--samples", type=int, help="propagation: samples per backend (default 300; quick 30)")
    parser.add_argument("--site-moves", type=lambda text: _counts(text, 2), metavar="SMALL,BIG",
                        help="pull: older stock moves in the small and the big site (default 10000,500000; "
                             "quick 2000,50000)")
    parser.add_argument("--devices", type=_counts, metavar="N,N,...",
                        help="concurrency: counts of active devices (default 10,100,200,500; quick 200)")
    parser.add_argument("--duration", type=int, metavar="SECONDS",
                        help="concurrency: measuring window per point (default 20; quick 3)")
    parser.add_argument("--pause-ms", type=int, metavar="MS",
                        help="concurrency: an active device's pause between rounds (default 5000; "
                             "0: back to back)")
    parser.add_argument("--connections", type=int, help="idle: live streams to open (default 2,000; quick 200)")
    parser.add_argument("--fleet-devices", type=int, help="fleet: device processes (default 100; quick 8)")
    parser.add_argument("--offline", type=int, help="fleet: offline mutations per device (default 1,000; quick 50)")
    parser.add_argument("--trials", type=int, help="crash: trials on SQLite (default 1,000; quick 12); "
                                                    "PostgreSQL runs a tenth")
    parser.add_argument("--completions", type=int,
                        help="work_orders: completions to push (default 5,000; quick 500)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (databases, server logs)")
    args = parser.parse_args(argv)
    names = [name.strip() for value in (args.only or []) for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    args.names = [name for name in BENCHMARKS if name in names] if names else list(BENCHMARKS)
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    sizes = {key: value for key, value in (("rows", args.rows), ("mutations", args.mutations),
                                             ("samples", args.samples), ("site_moves", args.site_moves),
                                             ("devices", args.devices), ("duration", args.duration),
                                             ("connections", args.connections), ("fleet_devices", args.fleet_devices),
                                             ("offline", args.offline), ("trials", args.trials),
                                             ("completions", args.completions)) if value}
    if args.pause_ms is not None:  # 0 is meaningful: devices push back to back
        sizes["pause_ms"] = args.pause_ms
    session = Session(quick=args.quick, pg_url=args.pg, sizes=sizes, results_dir=args.out)
    started_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    session.log(f"scratch directory {session.workdir}")
    try:
        machine = machine_facts(session)
        for name in args.names:
            session.log(f"== {name}")
            module = importlib.import_module(f"bench.{name}")
            try:
                figures.extend(module.run(session))
            except Exception as error:  # record it and go on: one broken benchmark must not hide the rest
                traceback.print_exc()
                errors[name] = f"{type(error).__name__}: {error}"
    finally:
        if args.keep:
            session.log(f"kept {session.workdir}")
        else:
            shutil.rmtree(session.workdir, ignore_errors=True)
    document = {
        "command": " ".join(["python -m bench", *map(shlex.quote, argv)]).strip(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 1),
        "quick": args.quick,
        "benchmarks": args.names,
        "sizes": {key: value for key, value, benchmark in (
            ("rows", session.size("rows", 1_000_000, 50_000), "bootstrap"),
            ("mutations", session.size("mutations", 20_000, 2_000), "push"),
            ("batch_sizes", push_batches.BATCH_SIZES, "push_batches"),
            ("site_moves", session.size("site_moves", *pull.SITE_MOVES), "pull"),
            ("changed_moves", pull.changed_counts(session), "pull"),
            ("samples", session.size("samples", 300, 30), "propagation"),
            ("devices", [point.devices for point in concurrency.points(session)], "concurrency"),
            ("pause_ms", concurrency.pause_ms(session), "concurrency"),
            ("duration", session.size("duration", *concurrency.WINDOW_SECONDS), "concurrency"),
            ("connections", session.size("connections", *idle.CONNECTIONS), "idle"),
            ("fleet_devices", session.size("fleet_devices", 100, 8), "fleet"),
            ("offline", session.size("offline", 1000, 50), "fleet"),
            ("trials", session.size("trials", 1000, 12), "crash"),
            ("items", session.size("items", *mobile.ITEMS), "mobile"),
            ("ui_samples", session.size("ui_samples", *mobile.SAMPLES), "mobile"),
            ("completions", session.size("completions", *work_orders.COMPLETIONS), "work_orders"),
            ("availability_items", session.size("availability_items", *availability.ITEMS), "availability"),
            ("availability_reservations", session.size("availability_reservations", *availability.RESERVATIONS),
             "availability"),
            ("availability_lookups", session.size("availability_lookups", *availability.LOOKUPS), "availability"),
            ("valuation_items", session.size("valuation_items", *valuation.ITEMS), "valuation"),
            ("valuation_moves", session.size("valuation_moves", *valuation.MOVES), "valuation"))
            if benchmark in args.names},
        "machine": machine,
        "postgresql_skipped_reason": session.postgres_unavailable(),
        "errors": errors,
        "notes": session.notes,
        "artifacts": session.artifacts,
    }
    json_path, md_path = write(args.out, document, figures)
    print(markdown({**document}, figures))
    session.log(f"wrote {json_path} and {md_path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
