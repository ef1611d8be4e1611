"""The work-order benchmark at a small size against a real server process on SQLite: it returns
one measured figure against the raw-insert baseline of the same run, with the target on it, and
its own checks (every completion applied, six moves each, the orders' quantities) held."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import BENCHMARKS, work_orders
from bench.__main__ import parse_args
from bench.common import Session

pytestmark = pytest.mark.slow


def test_work_order_completions_are_measured_against_the_raw_insert_baseline(tmp_path: Path) -> None:
    session = Session(quick=True, pg_url="postgresql://postgres@127.0.0.1:9", workdir=tmp_path / "work",
                      results_dir=tmp_path / "results", sizes={"completions": 60})
    [figure] = work_orders.run(session)
    assert figure.status == "measured" and figure.backend == "SQLite" and figure.unit == "completions/s"
    assert figure.value is not None and math.isfinite(figure.value) and figure.value > 0
    assert figure.baseline_value and figure.ratio == pytest.approx(figure.value / figure.baseline_value)
    assert figure.target is work_orders.TARGET and figure.met is not None
    assert figure.details["completions"] == 60 and figure.details["baseline_rows"] == 60 * 6
    assert "work_orders" in BENCHMARKS
    assert parse_args(["--only", "work_orders", "--completions", "60"]).names == ["work_orders"]
