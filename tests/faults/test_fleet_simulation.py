"""The fleet simulation, small: device processes on three sites live a simulated day with
outages, then record work offline and reconnect together; the audit must come out clean.

The benchmark runs 100 devices with 1,000 offline mutations each (``./dev bench --only fleet``).
"""

from __future__ import annotations

import pytest

from faults.fleet import FleetConfig, FleetSimulation

pytestmark = pytest.mark.slow


def _run(tmp_path, devices: int, db_url: str | None = None):
    # Few items on few shelves, so devices apart clear the same shelf and the site that
    # refuses negative stock rejects the later push: the audit follows those rejections.
    config = FleetConfig(devices=devices, sites=3, reject_sites=1, items=3, days=1.5, step_hours=6,
                         offline_mutations=100, seed=5, workdir=tmp_path / "fleet", db_url=db_url)
    report = FleetSimulation(config, log=lambda message: None).run()
    summary = report.summary()
    audit = report.audit
    assert audit is not None and audit.ok, summary
    assert audit.devices == devices
    assert audit.mutations_made == audit.committed_seen  # nobody was killed: the driver saw every commit
    assert audit.applied + audit.rejected == audit.mutations_made
    assert audit.rejected > 0, summary
    assert report.offline_mutations == devices * config.offline_mutations
    assert report.steps == 6 and report.outages > 0 and report.syncs_skipped_offline > 0, summary
    return report


def test_a_fleet_through_outages_converges_with_nothing_lost_sqlite(tmp_path):
    _run(tmp_path, devices=9)


@pytest.mark.postgres
def test_a_fleet_through_outages_converges_with_nothing_lost_postgresql(tmp_path, pg_url):
    _run(tmp_path, devices=6, db_url=pg_url)
