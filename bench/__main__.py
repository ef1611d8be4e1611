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

from bench import BENCHMARKS
from bench.common import DEFAULT_PG, Figure, Session, machine_facts
from bench.report import markdown, write


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
                                             ("samples", args.samples)) if value}
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
            ("samples", session.size("samples", 300, 30), "propagation")) if benchmark in args.names},
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
