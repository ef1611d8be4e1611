"""The valuation benchmark at a small size on SQLite: its figures are measured against baselines
of the same run, the report row carries the target, its own checks (the report's quantities are
the ledger's sums, the rebuild read every move) held, and PostgreSQL rows are skipped with the
reason when no server answers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import BENCHMARKS, valuation
from bench.__main__ import parse_args
from bench.common import Session

pytestmark = pytest.mark.slow


def test_the_valuation_report_and_rebuild_are_measured_against_raw_reads(tmp_path: Path) -> None:
    session = Session(quick=True, pg_url="postgresql://postgres@127.0.0.1:9", workdir=tmp_path / "work",
                      results_dir=tmp_path / "results", sizes={"valuation_items": 60, "valuation_moves": 3_000})
    figures = valuation.run(session)
    measured = [f for f in figures if f.backend == "SQLite"]
    assert [f.unit for f in measured] == ["s", "s", "rows/s", "MiB"]
    for figure in measured:
        assert figure.status == "measured" and figure.value is not None and math.isfinite(figure.value)
        assert figure.value > 0 and figure.baseline_value and figure.baseline_value > 0
        assert figure.ratio == pytest.approx(figure.value / figure.baseline_value)
    assert measured[0].target is not None and measured[0].details["moves"] == 3_000
    assert measured[0].details["report_lines"] <= 60 * valuation.SITES
    skipped = [f for f in figures if f.backend == "PostgreSQL"]
    assert skipped and all(f.status == "skipped" and "unreachable" in f.reason for f in skipped)
    assert "valuation" in BENCHMARKS
    assert parse_args(["--only", "valuation"]).names == ["valuation"]
