"""Crash trials at scale: SIGKILL servers and devices a thousand times, count what was lost.

Runs ``faults.crash`` (see its docstring and docs/benchmarks.md): seeded trials that kill the
device or the server process in push, pull, bootstrap or a local commit, restart it and sync,
then audit every mutation through the HQ API. 1,000 trials on SQLite and 100 on PostgreSQL
(quick: 12 and 8).

Figures per backend: trials completed with a clean audit (target: 1,000 with 0 lost and 0
duplicated), mutations lost, mutations applied twice, and the mean wall time of a trial. The
baseline for the trial time is the start of one device process until it answers (median of
five, same run): a trial restarts at least one process, so the ratio says how much of a trial
is anything else.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.common import Figure, Session, Target, postgres_database, skipped
from faults.crash import CrashConfig, CrashTrials
from faults.driver import DeviceHandle

NAME = "crash"
TRIALS_TARGET = Target(">=", 1000, "trials", "1,000 seeded crash trials, 0 lost, 0 duplicated")
NONE = Target("<=", 0, "mutations", "0")


def process_start_seconds(session: Session, repeats: int = 5) -> float:
    samples = []
    for i in range(repeats):
        device = DeviceHandle(session.scratch(f"{NAME}/start-{i}"))
        started = time.perf_counter()
        device.start()
        samples.append(time.perf_counter() - started)
        device.stop()
    return statistics.median(samples)


def _figures(backend: str, report: Any, start_s: float) -> list[Figure]:
    audit = report.audit
    details = {"summary": report.summary()}
    clean = len(report.trials) if audit is not None and audit.ok else 0
    mean_trial = statistics.mean(t.seconds for t in report.trials) if report.trials else None
    return [
        Figure(NAME, "trials with a clean audit", backend, "trials", clean, target=TRIALS_TARGET, details=details),
        Figure(NAME, f"mutations lost ({audit.mutations_made:,} made)", backend, "mutations", len(audit.lost),
               target=NONE),
        Figure(NAME, "mutations applied twice", backend, "mutations", len(audit.duplicated), target=NONE),
        Figure(NAME, "wall time per trial", backend, "s", mean_trial, baseline_name="device process start",
               baseline_value=start_s),
    ]


def run(session: Session) -> list[Figure]:
    start_s = process_start_seconds(session)
    trials = session.size("trials", 1000, 12)
    session.log(f"{NAME}: {trials} trials on SQLite")
    report = CrashTrials(CrashConfig(trials=trials, seed=1, workdir=session.scratch(f"{NAME}/sqlite")),
                         log=session.log).run()
    figures = _figures("SQLite", report, start_s)
    reason = session.postgres_unavailable()
    if reason is not None:
        return figures + [skipped(NAME, "trials with a clean audit", "PostgreSQL", "trials", reason, TRIALS_TARGET)]
    pg_trials = max(8, trials // 10)
    session.log(f"{NAME}: {pg_trials} trials on PostgreSQL")
    with postgres_database(session.pg_url) as (server_url, _dsn):
        report = CrashTrials(CrashConfig(trials=pg_trials, seed=2, workdir=session.scratch(f"{NAME}/postgres"),
                                         db_url=server_url), log=session.log).run()
    return figures + _figures("PostgreSQL", report, start_s)
