"""Seeded crash trials, small: real server and device processes killed with SIGKILL in push,
pull, bootstrap and local commits, restarted, and audited (``faults.crash``, ``faults.audit``).

The benchmark runs the same trials at 1,000 (``./dev bench --only crash``); these runs keep CI
to well under a minute while still killing at every point, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter

import pytest

from faults.crash import KILL_POINTS, CrashConfig, CrashTrials

pytestmark = pytest.mark.slow


def _run(tmp_path, trials: int, seed: int, db_url: str | None = None):
    config = CrashConfig(trials=trials, seed=seed, workdir=tmp_path / "crash", db_url=db_url,
                         actions_per_trial=120, seed_moves=800)
    report = CrashTrials(config, log=lambda message: None).run()
    summary = report.summary()
    assert report.audit is not None and report.audit.ok, summary
    assert len(report.trials) == trials
    assert Counter(t.point for t in report.trials) == {point: trials // len(KILL_POINTS) for point in KILL_POINTS}
    # Most kills must land inside their point, or the trials would prove little.
    assert sum(t.landed for t in report.trials) >= trials // 4, summary
    assert report.device_restarts >= sum(1 for t in report.trials if t.victim == "edge")
    assert report.server_restarts == sum(1 for t in report.trials if t.victim == "server")
    assert report.audit.mutations_made >= config.seed_moves and report.audit.applied > 0
    return report


def test_sigkill_at_every_point_loses_nothing_and_applies_nothing_twice_sqlite(tmp_path):
    _run(tmp_path, trials=12, seed=7)


@pytest.mark.postgres
def test_sigkill_at_every_point_loses_nothing_and_applies_nothing_twice_postgresql(tmp_path, pg_url):
    _run(tmp_path, trials=8, seed=11, db_url=pg_url)
