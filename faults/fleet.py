"""Fleet simulation: many devices on several sites doing warehouse work through outages.

N device processes (``faults.device_process``, default 100) talk to one server process over
real HTTP. Time is simulated: the run covers ``days`` of warehouse life in steps of
``step_hours``; each device has its own seeded outage schedule, with outages from seconds to
days, and in every step it records its share of work (stamped with the simulated time) and
syncs only if its link is up at that moment. Some sites refuse negative stock, so devices that
took the same goods while apart get rejections; the others flag it for review.

Then comes the measured part: every device goes offline and records ``offline_mutations``
actions; all reconnect at once, and the run times how long the fleet takes to converge: every
device pushes everything and then pulls everyone else's work (two rounds of sync, since a device
that finished early has not seen the pushes that finished after it).

At the end ``faults.audit`` checks: zero mutations lost and zero applied twice, every replica's
scope checksum equal to the server's, ledger sums equal to balances (server and replicas), and
every rejection visible on its device and at HQ.

Invariants of the simulation itself:
- The schedule (outages, work, seeds of every device's traffic) comes from one seed; what varies
  between runs with the same seed is only how the machine interleaves the processes.
- The simulated clock never goes backwards, and every action carries the simulated moment it
  happened at, so ``occurred_at`` in the ledger spans the simulated days.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from faults.audit import AuditResult, DeviceFacts, audit
from faults.driver import CommandFailed, DeviceHandle
from faults.world import SitePlan, create_world, enrollment_codes
from server.process import ServerProcess

SIMULATION_START = datetime(2026, 11, 2, 0, 0, tzinfo=timezone.utc)


@dataclass
class FleetConfig:
    devices: int = 100
    sites: int = 10
    reject_sites: int = 3  # how many sites refuse negative stock (the rest flag it)
    items: int = 40
    days: float = 3.0  # simulated warehouse life before the measured outage
    step_hours: float = 6.0
    actions_per_step: int = 4
    offline_mutations: int = 1000  # per device, during the measured outage
    seed: int = 1
    workdir: Path | None = None
    db_url: str | None = None  # default: a SQLite file in ``workdir``


@dataclass
class Outage:
    start: datetime
    end: datetime


def outage_schedule(rng: random.Random, start: datetime, end: datetime) -> list[Outage]:
    """Alternating up and down periods; both log-uniform, outages from 5 s to 2 days."""
    outages: list[Outage] = []
    moment = start
    while moment < end:
        moment += timedelta(seconds=math.exp(rng.uniform(math.log(600), math.log(86_400))))  # up: 10 min .. 1 day
        length = timedelta(seconds=math.exp(rng.uniform(math.log(5), math.log(2 * 86_400))))
        outages.append(Outage(moment, moment + length))
        moment += length
    return outages


def is_down(outages: list[Outage], moment: datetime) -> bool:
    return any(o.start <= moment < o.end for o in outages)


def cpu_seconds(process_group: int) -> float:
    """User plus system CPU time of every live process in a process group (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[2]) == process_group:  # fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@dataclass
class FleetReport:
    config: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each phase
    steps: int = 0
    syncs_skipped_offline: int = 0
    retries: int = 0  # commands repeated after a transient failure (a timeout under load, say)
    outages: int = 0
    outage_seconds: dict[str, float] = field(default_factory=dict)  # shortest, median, longest (simulated)
    offline_mutations: int = 0
    reconnect_round_seconds: list[float] = field(default_factory=list)
    converge_seconds: float = 0.0
    per_device_converged_s: dict[str, float] = field(default_factory=dict)  # p50, p99, max of round 1
    # CPU time spent during the reconnect: on one machine the devices and the server share its
    # cores, while a real fleet brings a CPU per tablet, so the server's share is the part that
    # would remain.
    reconnect_cpu_seconds: dict[str, float] = field(default_factory=dict)
    audit: AuditResult | None = None

    def summary(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self).items() if k != "audit"},
                "audit": self.audit.summary() if self.audit else None}


class FleetSimulation:
    def __init__(self, config: FleetConfig, log: Callable[[str], None] = print) -> None:
        self.config = config
        self.log = log
        self.random = random.Random(config.seed)
        self.workdir = config.workdir or Path(tempfile.mkdtemp(prefix="jcerp-fleet-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        db_url = config.db_url or f"sqlite+aiosqlite:///{self.workdir / 'server.db'}"
        self.server = ServerProcess(db_url, log_path=self.workdir / "server.log", rate_limits="off")
        self.report = FleetReport(config={k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()})
        self.devices: list[DeviceHandle] = []
        self.outages: list[list[Outage]] = []

    # -- commands to many devices at once --------------------------------------------------

    def _all(self, devices: list[DeviceHandle], op: str, fields: Callable[[int], dict[str, Any]] | None = None,
             timeout: float = 600.0) -> dict[int, float]:
        """Send ``op`` to every device, then wait for all; retry transient failures.
        Returns, per device index, seconds from the first send until its command finished."""
        started = time.monotonic()
        finished: dict[int, float] = {}
        waiting = {index: device.send(op, **(fields(index) if fields else {})) for index, device in enumerate(devices)}
        attempts = 0
        while waiting:
            retry: list[int] = []
            for index, command in waiting.items():
                try:
                    answer = devices[index].finish(command, timeout)
                    # When the device said so, not when this loop got to it: the loop waits in order.
                    finished[index] = answer["_received"] - started
                except CommandFailed as failure:
                    if not failure.transient or attempts >= 20:
                        raise
                    retry.append(index)
            attempts += 1
            self.report.retries += len(retry)
            if retry:
                time.sleep(0.5)
            waiting = {index: devices[index].send(op, **(fields(index) if fields else {})) for index in retry}
        return finished

    # -- phases ----------------------------------------------------------------------------

    def setup(self) -> None:
        config = self.config
        self.server.start()
        plans = [SitePlan(f"FLEET-{i:02d}", "reject" if i < config.reject_sites else "flag", locations=5)
                 for i in range(config.sites)]
        site_ids = list(create_world(self.server.hq_client(), plans, items=config.items).values())
        self.devices = [DeviceHandle(self.workdir / f"device-{i:03d}", log_path=self.workdir / f"device-{i:03d}.log")
                        for i in range(config.devices)]
        for device in self.devices:  # start all first: their imports run in parallel
            device.start(timeout=300)
        with self.server.hq_client() as hq:
            codes = [enrollment_codes(hq, site_ids[i % len(site_ids)], 1)[0] for i in range(config.devices)]
        self._all(self.devices, "enroll", lambda i: {"server": self.server.url, "site": site_ids[i % len(site_ids)],
                                                     "code": codes[i],
                                                     "name": f"平板 {i:03d}"})
        self._all(self.devices, "sync")
        horizon = SIMULATION_START + timedelta(days=config.days)
        self.outages = [outage_schedule(random.Random(self.random.getrandbits(32)), SIMULATION_START, horizon)
                        for _ in self.devices]
        lengths = sorted((o.end - o.start).total_seconds() for schedule in self.outages for o in schedule)
        self.report.outages = len(lengths)
        if lengths:
            self.report.outage_seconds = {"shortest": round(lengths[0], 1), "median": round(lengths[len(lengths) // 2], 1),
                                          "longest": round(lengths[-1], 1)}

    def warehouse_life(self) -> datetime:
        """Steps of simulated time: everyone works, those whose link is up sync. Returns the end time."""
        config = self.config
        step = timedelta(hours=config.step_hours)
        steps = max(1, round(config.days * 24 / config.step_hours))
        moment = SIMULATION_START
        for number in range(steps):
            seeds = [self.random.getrandbits(32) for _ in self.devices]
            self._all(self.devices, "work", lambda i: {
                "count": config.actions_per_step, "seed": seeds[i], "at": moment.isoformat(),
                "step_seconds": step.total_seconds() / config.actions_per_step})
            online = [d for d, schedule in zip(self.devices, self.outages) if not is_down(schedule, moment + step)]
            self.report.syncs_skipped_offline += len(self.devices) - len(online)
            self._all(online, "sync")
            moment += step
            self.log(f"fleet: step {number + 1}/{steps} at {moment:%Y-%m-%d %H:%M} simulated, "
                     f"{len(online)}/{len(self.devices)} devices online")
        self.report.steps = steps
        return moment

    def measured_outage(self, moment: datetime) -> None:
        """All offline; each records its work; all reconnect at once; time until converged."""
        config = self.config
        seeds = [self.random.getrandbits(32) for _ in self.devices]
        # A day offline: the work is spread over it in simulated time.
        self._all(self.devices, "work", lambda i: {
            "count": config.offline_mutations, "seed": seeds[i], "at": moment.isoformat(),
            "step_seconds": 86_400 / max(1, config.offline_mutations)})
        self.report.offline_mutations = config.offline_mutations * len(self.devices)
        self.log(f"fleet: {self.report.offline_mutations} mutations recorded offline; reconnecting")
        groups = {"server": [self.server.process.pid], "devices": [d.process.pid for d in self.devices]}
        cpu_before = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}
        started = time.monotonic()
        first = self._all(self.devices, "sync")
        self.report.reconnect_round_seconds.append(round(time.monotonic() - started, 2))
        second_started = time.monotonic()
        self._all(self.devices, "sync")
        self.report.reconnect_round_seconds.append(round(time.monotonic() - second_started, 2))
        self.report.converge_seconds = round(time.monotonic() - started, 2)
        self.report.reconnect_cpu_seconds = {
            name: round(sum(cpu_seconds(pid) for pid in pids) - cpu_before[name], 1) for name, pids in groups.items()}
        done = sorted(first.values())
        self.report.per_device_converged_s = {"p50": round(done[len(done) // 2], 2),
                                              "p99": round(done[min(len(done) - 1, int(len(done) * 0.99))], 2),
                                              "max": round(done[-1], 2)}

    def check(self) -> AuditResult:
        statuses = self._collect("status")
        verifies = self._collect("verify")
        facts = [DeviceFacts(device.home.name, statuses[i], verifies[i], dict(device.committed))
                 for i, device in enumerate(self.devices)]
        return audit(self.server.hq_client(timeout=120), facts)

    def _collect(self, op: str) -> list[dict[str, Any]]:
        commands = [device.send(op) for device in self.devices]
        return [device.finish(command) for device, command in zip(self.devices, commands)]

    def run(self) -> FleetReport:
        phases = self.report.seconds
        try:
            began = time.monotonic()
            self.setup()
            phases["setup"] = round(time.monotonic() - began, 1)
            began = time.monotonic()
            moment = self.warehouse_life()
            phases["warehouse_life"] = round(time.monotonic() - began, 1)
            began = time.monotonic()
            self.measured_outage(moment)
            phases["offline_work_and_reconnect"] = round(time.monotonic() - began, 1)
            began = time.monotonic()
            self.report.audit = self.check()
            phases["audit"] = round(time.monotonic() - began, 1)
        finally:
            for device in self.devices:
                device.stop()
            self.server.stop()
        return self.report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults.fleet", description=__doc__.splitlines()[0])
    defaults = FleetConfig()
    parser.add_argument("--devices", type=int, default=defaults.devices)
    parser.add_argument("--sites", type=int, default=defaults.sites)
    parser.add_argument("--offline-mutations", type=int, default=defaults.offline_mutations)
    parser.add_argument("--days", type=float, default=defaults.days)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--db", help="server database URL (default: a SQLite file in the work directory)")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    config = FleetConfig(devices=args.devices, sites=min(args.sites, args.devices), offline_mutations=args.offline_mutations,
                         days=args.days, seed=args.seed, workdir=args.workdir, db_url=args.db)
    report = FleetSimulation(config, log=lambda message: print(message, file=sys.stderr)).run()
    print(json.dumps(report.summary(), ensure_ascii=False, indent=2))
    return 0 if report.audit and report.audit.ok else 1


if __name__ == "__main__":
    sys.exit(main())
