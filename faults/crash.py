"""Crash trials: SIGKILL real server and device processes at random points, restart, carry on.

One server process (``jcerp server run``) on SQLite or PostgreSQL and a pool of device
processes (``faults.device_process``) do warehouse work. Each trial picks a kill point and a
victim, drives the victim into that point, waits a random part of the point's usual length,
and kills with SIGKILL, so no handler, ``finally`` or flush runs. Then it restarts the killed
process on the same database or replica and syncs until the device is caught up.

Kill points (each trial takes the next one of a freshly shuffled round of four):
- ``push``: a device with pending work pushes; the device or the server is killed;
- ``pull``: another device's work is waiting; the device pulls; the device or the server dies;
- ``bootstrap``: a newly enrolled device downloads its site; the device or the server dies;
- ``local_commit``: a device is recording actions one after another; it dies between or inside
  local commits.

At the end every device syncs and ``faults.audit`` checks, through the HQ API and each device's
own report: no mutation lost, none applied twice, no device with pending work, every replica's
scope checksum equal to the server's, every ledger equal to its balances, every rejection on its
device and at HQ.

Replaying: the kill points, victims, delays, devices and the traffic all come from one
``random.Random(seed)``, so a seed replays the same trial plan. Where inside a point the kill
lands still depends on how fast the machine runs at that moment; each trial records whether it
landed inside its point (``landed``), and the report counts them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from faults.audit import AuditResult, DeviceFacts, audit
from faults.driver import CommandFailed, DeviceDied, DeviceHandle
from faults.world import SitePlan, create_world, enrollment_codes
from server.process import ServerProcess

KILL_POINTS = ("push", "pull", "bootstrap", "local_commit")
POOL_SITES = (SitePlan("CRASH-A", "flag", 4), SitePlan("CRASH-B", "reject", 3))


@dataclass
class CrashConfig:
    trials: int = 20
    seed: int = 1
    workdir: Path | None = None
    db_url: str | None = None  # default: a SQLite file in ``workdir``
    server_share: float = 0.3  # of push, pull and bootstrap trials, the share that kills the server
    actions_per_trial: int = 200  # work recorded before a push or pull trial, or during a local-commit one
    seed_moves: int = 2000  # work done before the trials, so bootstraps and pulls take a while
    pool_limit: int = 6  # devices kept working; later newcomers are verified, stopped and retired


@dataclass
class TrialRecord:
    index: int
    point: str
    victim: str  # edge | server
    device: str
    delay_s: float
    landed: bool  # the kill came before the point finished
    seconds: float


@dataclass
class CrashReport:
    config: dict[str, Any]
    trials: list[TrialRecord] = field(default_factory=list)
    audit: AuditResult | None = None
    seconds: float = 0.0
    server_restarts: int = 0
    device_restarts: int = 0

    def landed(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for trial in self.trials:
            row = table.setdefault(f"{trial.point}/{trial.victim}", {"trials": 0, "landed": 0})
            row["trials"] += 1
            row["landed"] += trial.landed
        return table

    def summary(self) -> dict[str, Any]:
        return {"config": self.config, "trials": len(self.trials), "seconds": round(self.seconds, 1),
                "server_restarts": self.server_restarts, "device_restarts": self.device_restarts,
                "landed": self.landed(), "audit": self.audit.summary() if self.audit else None}


class CrashTrials:
    def __init__(self, config: CrashConfig, log=print) -> None:
        self.config = config
        self.log = log
        self.random = random.Random(config.seed)
        self.workdir = config.workdir or Path(tempfile.mkdtemp(prefix="jcerp-crash-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        db_url = config.db_url or f"sqlite+aiosqlite:///{self.workdir / 'server.db'}"
        self.server = ServerProcess(db_url, log_path=self.workdir / "server.log", graceful_seconds=0.5,
                                    rate_limits="off")
        self.report = CrashReport(config={k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()})
        self.site_ids: dict[str, str] = {}
        self.pool: list[tuple[DeviceHandle, str]] = []  # (device, site code)
        self.retired: list[DeviceFacts] = []
        self.newcomers = 0
        # How long each point usually lasts, refined by every run of it that nobody killed.
        self.expected = {"push": 0.15, "pull": 0.15, "bootstrap": 0.5, "local_commit": 0.1}

    # -- setup -----------------------------------------------------------------------------

    def _new_device(self, site_code: str) -> DeviceHandle:
        self.newcomers += 1
        name = f"device-{self.newcomers:04d}"
        device = DeviceHandle(self.workdir / name, log_path=self.workdir / f"{name}.log").start()
        with self.server.hq_client() as hq:
            code = enrollment_codes(hq, self.site_ids[site_code], 1)[0]
        device.call("enroll", server=self.server.url, site=self.site_ids[site_code], name=name, code=code)
        return device

    def setup(self) -> None:
        self.server.start()
        self.site_ids = create_world(self.server.hq_client(), list(POOL_SITES), items=8)
        # Two devices on the site that refuses negative stock: their offline issues race, so the
        # server rejects some, and the audit follows those rejections to the device and HQ.
        for site_code in ("CRASH-A", "CRASH-A", "CRASH-A", "CRASH-B", "CRASH-B"):
            device = self._new_device(site_code)
            self._sync(device)
            self.pool.append((device, site_code))
        first = self.pool[0][0]
        first.call("work", count=self.config.seed_moves, seed=self.random.getrandbits(32), at=_now(), step_seconds=1)
        self._sync(first)

    # -- one trial -------------------------------------------------------------------------

    def _sync(self, device: DeviceHandle, attempts: int = 60) -> None:
        """Sync until it succeeds, restarting a dead device process and waiting out a restarting server."""
        for _ in range(attempts):
            if not device.alive:
                device.start()
                self.report.device_restarts += 1
            try:
                device.call("sync", timeout=300)
                return
            except CommandFailed as failure:
                if not failure.transient:
                    raise
            except DeviceDied:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{device.home.name} could not sync after {attempts} attempts")

    def _kill_after(self, device: DeviceHandle, command_id: int, point: str, victim: str) -> tuple[float, bool]:
        """Wait for the device to enter ``point``, let a random part of it pass, kill the victim.
        Returns the delay and whether the kill came before the point ended."""
        phase = None if point == "local_commit" else point
        entered = device.wait_event(command_id, {"committed"} if phase is None else {"phase"}, timeout=300)
        while phase is not None and entered["event"] == "phase" and entered["phase"] != phase:
            entered = device.wait_event(command_id, {"phase"}, timeout=300)
        if entered["event"] in ("done", "error"):
            return 0.0, False  # nothing to do at this point (an empty pull page, say); recorded as a miss
        delay = self.random.uniform(0, self.expected[point])
        started = time.monotonic()
        time.sleep(delay)
        if victim == "server":
            self.server.stop(kill=True)
        else:
            device.kill()
        killed_at = time.monotonic()
        landed = True
        # The device's events up to the kill say whether the point had already finished.
        while True:
            try:
                event = device.wait_event(command_id, {"phase_end"}, timeout=60)
            except (DeviceDied, TimeoutError):
                break
            finished = (event["event"] == "done" or (event["event"] == "phase_end" and event.get("phase") == phase))
            if finished and event["_received"] < killed_at:
                landed = False
                self.expected[point] = max(0.005, event["_received"] - started)
            if event["event"] in ("done", "error"):
                break
        if landed:  # reach a little further next time, so late moments of the point get their turn
            self.expected[point] *= 1.2
        return delay, landed

    def trial(self, index: int, point: str) -> TrialRecord:
        started = time.monotonic()
        rng = self.random
        victim = "edge" if point == "local_commit" or rng.random() >= self.config.server_share else "server"
        count = self.config.actions_per_trial
        if point == "bootstrap":
            device, site_code = self._new_device("CRASH-A"), "CRASH-A"
            # Small chunks: many local commits to land between, each a resume position.
            command = device.send("sync", chunk_rows=250)
        else:
            device, site_code = rng.choice(self.pool)
            if point == "push":
                device.call("work", count=count, seed=rng.getrandbits(32), at=_now(), step_seconds=1)
                # Meanwhile a colleague takes stock from the same shelves and syncs first: some of
                # this device's issues now overdraw, flagged on one site and rejected on the other.
                rival = rng.choice([d for d, code in self.pool if code == site_code and d is not device])
                rival.call("work", count=count // 4, seed=rng.getrandbits(32), at=_now(), step_seconds=1)
                self._sync(rival)
                command = device.send("sync")
            elif point == "pull":
                others = [d for d, code in self.pool if code == site_code and d is not device]
                if others:
                    other = rng.choice(others)
                    other.call("work", count=count, seed=rng.getrandbits(32), at=_now(), step_seconds=1)
                    self._sync(other)
                command = device.send("sync", page_rows=100)  # several pages, each its own local commit
            else:
                command = device.send("work", count=count, seed=rng.getrandbits(32), at=_now(), step_seconds=1)
        delay, landed = self._kill_after(device, command, point, victim)
        if victim == "server":
            self.server.start()
            self.report.server_restarts += 1
        elif not device.alive:
            device.start()
            self.report.device_restarts += 1
        self._sync(device)
        if point == "bootstrap":
            if len(self.pool) < self.config.pool_limit:
                self.pool.append((device, site_code))
            else:
                self.retired.append(self._facts(device))
                device.stop()
        return TrialRecord(index, point, victim, device.home.name, round(delay, 4), landed,
                           round(time.monotonic() - started, 3))

    # -- the whole run ---------------------------------------------------------------------

    def _facts(self, device: DeviceHandle) -> DeviceFacts:
        status = device.call("status")
        verify = device.call("verify")
        return DeviceFacts(device.home.name, status, verify, dict(device.committed))

    def run(self) -> CrashReport:
        started = time.monotonic()
        try:
            self.setup()
            order: list[str] = []
            for index in range(self.config.trials):
                if not order:
                    order = list(KILL_POINTS)
                    self.random.shuffle(order)
                record = self.trial(index, order.pop())
                self.report.trials.append(record)
                if (index + 1) % 50 == 0 or index + 1 == self.config.trials:
                    self.log(f"crash trials: {index + 1}/{self.config.trials} done, "
                             f"{sum(t.landed for t in self.report.trials)} landed inside their point")
            for _ in range(2):  # the second round brings everyone the first round's last pushes
                for device, _code in self.pool:
                    self._sync(device)
            facts = [self._facts(device) for device, _code in self.pool] + self.retired
            self.report.audit = audit(self.server.hq_client(timeout=120), facts)
        finally:
            for device, _code in self.pool:
                device.stop()
            self.server.stop()
        self.report.seconds = time.monotonic() - started
        return self.report


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults.crash", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=CrashConfig.trials)
    parser.add_argument("--seed", type=int, default=CrashConfig.seed)
    parser.add_argument("--db", help="server database URL (default: a SQLite file in the work directory)")
    parser.add_argument("--workdir", type=Path, help="where databases, replicas and logs go (default: a new temp dir)")
    args = parser.parse_args(argv)
    report = CrashTrials(CrashConfig(trials=args.trials, seed=args.seed, workdir=args.workdir, db_url=args.db),
                         log=lambda message: print(message, file=sys.stderr)).run()
    print(json.dumps(report.summary(), ensure_ascii=False, indent=2))
    return 0 if report.audit and report.audit.ok else 1


if __name__ == "__main__":
    sys.exit(main())
