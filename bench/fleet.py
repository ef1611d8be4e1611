"""Fleet convergence: 100 devices reconnect at once with 1,000 offline mutations each.

Runs ``faults.fleet`` (see its docstring and docs/benchmarks.md): 100 device processes on 10
sites live three simulated days with outages, then all go offline, record 1,000 warehouse
actions each, and reconnect together (quick: 8 devices × 50). The figure is the wall time from
the reconnect until every device has pushed everything and pulled everyone else's work, on
SQLite and on PostgreSQL, with the audit's counts of lost and duplicated mutations and of
replicas whose scope checksum differs from the server's.

Baseline (same run): raw ``sqlite3`` ``executemany`` of as many stock-move rows as the server's
ledger holds at the end (the offline work's and the simulated days' before it), into a fresh
file, a commit per 500 rows: the least a server could spend storing them, with no HTTP, no
validation and no device pulling anything.
"""

from __future__ import annotations

from typing import Any

from bench.common import Figure, Session, Target, postgres_database, raw_insert_seconds, skipped
from faults.fleet import FleetConfig, FleetSimulation
from sync.ids import new_id

NAME = "fleet"
CONVERGE_TARGET = Target("<=", 30.0, "s", "100 devices × 1,000 offline mutations converge ≤ 30 s")
NONE = Target("<=", 0, "mutations", "0")


def _baseline_seconds(session: Session, rows: int) -> float:
    stamp = "2026-11-05T00:00:00.000000Z"
    data = [(new_id(), "site", "receipt", "item", "location", "1.5", None, None, None, stamp, "device", i, "hlc",
             None, i) for i in range(rows)]
    return raw_insert_seconds(session.scratch(NAME) / f"baseline-{new_id()}.db", data, per_commit=500)


def _figures(backend: str, report: Any, baseline_s: float) -> list[Figure]:
    audit = report.audit
    details = {"summary": report.summary()}
    devices, offline = report.config["devices"], report.config["offline_mutations"]
    metric = f"converge after reconnect ({devices} devices × {offline:,})"
    # The target is stated for 100 devices × 1,000 mutations; a smaller fleet proves nothing about it.
    target = CONVERGE_TARGET if devices >= 100 and offline >= 1000 else None
    return [
        Figure(NAME, metric, backend, "s", report.converge_seconds, baseline_name="raw executemany of the moves",
               baseline_value=baseline_s, target=target, details=details),
        Figure(NAME, f"mutations lost ({audit.mutations_made:,} made)", backend, "mutations", len(audit.lost),
               target=NONE),
        Figure(NAME, "mutations applied twice", backend, "mutations", len(audit.duplicated), target=NONE),
        Figure(NAME, "replicas differing from the server", backend, "devices", len(audit.checksum_mismatches),
               target=Target("<=", 0, "devices", "0")),
    ]


def _config(session: Session, **extra: Any) -> FleetConfig:
    devices = session.size("fleet_devices", 100, 8)
    return FleetConfig(devices=devices, sites=min(10, devices), offline_mutations=session.size("offline", 1000, 50),
                       days=3.0 if not session.quick else 1.0, **extra)


def run(session: Session) -> list[Figure]:
    config = _config(session, workdir=session.scratch(f"{NAME}/sqlite"))
    report = FleetSimulation(config, log=session.log).run()
    moves = report.audit.moves if report.audit else config.devices * config.offline_mutations
    baseline_s = _baseline_seconds(session, moves)
    figures = _figures("SQLite", report, baseline_s)
    reason = session.postgres_unavailable()
    if reason is not None:
        return figures + [skipped(NAME, "converge after reconnect", "PostgreSQL", "s", reason, CONVERGE_TARGET)]
    with postgres_database(session.pg_url) as (server_url, _dsn):
        report = FleetSimulation(_config(session, workdir=session.scratch(f"{NAME}/postgres"), db_url=server_url),
                                 log=session.log).run()
    return figures + _figures("PostgreSQL", report, baseline_s)
