"""Shared pieces of the benchmarks: the run session, figures and targets, machine facts,
master data through the HQ API, scratch PostgreSQL databases, stock-move rows, devices that
speak the wire protocol without a replica, and the memory of a server process.

A ``Figure`` is one line of the results table: an absolute measurement, the baseline it is
compared with (measured in the same run), the ratio between the two, and the spec's target
with whether it was met and by how much.
"""

from __future__ import annotations

import asyncio
import functools
import os
import platform
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import httpx
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from edge_client.client import PULL_PAGE
from edge_client.device_key import DeviceSignature
from erp.inventory.stock_move import Receive
from protocol import PROTOCOL_VERSION
from protocol.base import MSGPACK, decode, encode
from protocol.enroll import EnrollRequest, EnrollResponse
from protocol.pull import PullRequest, PullResponse
from protocol.push import MutationEnvelope, PushRequest, PushResponse
from protocol.signing import public_key_text
from server.process import ServerProcess
from sync.hlc import HybridLogicalClock
from sync.ids import new_id
from sync.registry import discover
from sync.schema import SCHEMA_VERSION

T = TypeVar("T")

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"


# -- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A bound from the spec: ``value op target`` must hold (op is ">=" or "<=")."""

    op: str
    value: float
    unit: str
    text: str  # the target as the spec phrases it

    def met(self, measured: float) -> bool:
        return measured >= self.value if self.op == ">=" else measured <= self.value

    def verdict(self, measured: float) -> str:
        """Met or missed, and by how much, in the target's own terms."""
        share = measured / self.value if self.value else float("inf")
        # Near the bound a rounded "0%" or "1.00×" would hide which side it fell on.
        digits = 3 if abs(share - 1) < 0.05 else 2
        if self.op == ">=":
            if measured >= self.value:
                return f"met, {share:.{digits}f}× the target (+{(share - 1) * 100:.{digits - 2}f}%)"
            return (f"missed by {(1 - share) * 100:.{digits - 2}f}%: {share:.{digits}f}× the target, "
                    f"needs {1 / share:.{1 if digits == 2 else 3}f}× more")
        if measured <= self.value:
            return f"met, {self.value - measured:.3g} {self.unit} under the limit"
        return f"missed by {measured - self.value:.3g} {self.unit}: {share:.2f}× the limit"


@dataclass
class Figure:
    benchmark: str
    metric: str
    backend: str
    unit: str
    value: float | None = None
    baseline_name: str | None = None
    baseline_value: float | None = None
    baseline_unit: str | None = None  # when it differs from ``unit`` (rows/s against mutations/s)
    target: Target | None = None
    status: str = "measured"  # measured | skipped | failed
    reason: str | None = None  # why skipped or failed
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline_value:
            return None
        return self.value / self.baseline_value

    @property
    def met(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.target.met(self.value)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["met"] = self.met
        data["verdict"] = self.target.verdict(self.value) if self.target and self.value is not None else None
        return data


def skipped(benchmark: str, metric: str, backend: str, unit: str, reason: str, target: Target | None = None) -> Figure:
    return Figure(benchmark, metric, backend, unit, target=target, status="skipped", reason=reason)


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (the common "type 7" definition)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Session:
    """Options of one ``python -m bench`` run, and where its scratch files go."""

    quick: bool = False
    pg_url: str = DEFAULT_PG
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="jcerp-bench-")))
    sizes: dict[str, Any] = field(default_factory=dict)  # explicit overrides from the command line
    notes: list[str] = field(default_factory=list)  # findings worth reading next to the table
    artifacts: dict[str, str] = field(default_factory=dict)  # name -> file written under results/
    results_dir: Path = Path(__file__).parent / "results"
    _pg_reason: str | None = None
    _pg_checked: bool = False

    def size(self, name: str, full: Any, quick: Any) -> Any:
        return self.sizes.get(name) or (quick if self.quick else full)

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def scratch(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def postgres_unavailable(self) -> str | None:
        """None if PostgreSQL answers at ``pg_url``; otherwise why not (checked once per run)."""
        if not self._pg_checked:
            self._pg_checked = True
            try:
                asyncio.run(_pg_execute(self.pg_url, "SELECT 1"))
            except Exception as error:  # any failure means the same thing here: skip PostgreSQL rows
                shown = make_url(self.pg_url).render_as_string(hide_password=True)
                self._pg_reason = f"PostgreSQL unreachable at {shown}: {type(error).__name__}: {error}"
        return self._pg_reason


# -- machine ---------------------------------------------------------------------------------


def machine_facts(session: Session) -> dict[str, Any]:
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    facts: dict[str, Any] = {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
        "postgresql": None,
    }
    if session.postgres_unavailable() is None:
        try:
            facts["postgresql"] = asyncio.run(_pg_fetchval(session.pg_url, "SHOW server_version"))
        except Exception as error:  # the version is informative only
            facts["postgresql"] = f"unknown ({error})"
    return facts


# -- PostgreSQL scratch databases -----------------------------------------------------------


async def _pg_execute(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _pg_fetchval(url: str, sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


@contextmanager
def postgres_database(pg_url: str) -> Iterator[tuple[str, str]]:
    """Create ``jcerp_bench_<random>``; yield (server URL, plain asyncpg DSN); drop it after."""
    name = f"jcerp_bench_{secrets.token_hex(4)}"
    asyncio.run(_pg_execute(pg_url, f'CREATE DATABASE "{name}"'))
    base = make_url(pg_url).set(database=name)
    try:
        yield (base.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
               base.set(drivername="postgresql").render_as_string(hide_password=False))
    finally:
        asyncio.run(_pg_execute(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- servers and master data -----------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@contextmanager
def running_server(db_url: str, log_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(db_url, log_path=log_path, rate_limits="off")  # enrolls up to 2,000 devices at once
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class MasterData:
    site_id: str
    item_ids: list[str]
    location_ids: list[str]


# The HQ user who signs the benchmarks' receipts: the server checks that a named user exists
# and may receive at the device's site, as it would for a clerk signed in on a tablet.
BENCH_USER = "zhangsan"
# What a benchmark device is enrolled as: the role that receives goods at a warehouse.
DEVICE_ROLE = "warehouse_clerk"


def create_master_data(server: ServerProcess, *, items: int = 1, locations: int = 1,
                       like: MasterData | None = None) -> MasterData:
    """A site with one warehouse, ``items`` items and ``locations`` locations, via the HQ API
    (signed in as the server's administrator).

    ``like`` reuses the ids of master data made on another server, so mutations recorded
    against one server can be sent to the other unchanged.
    """
    with server.hq_client() as hq:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = hq.post(path, json=body)
            response.raise_for_status()
            return response.json()

        site = post("/api/v1/sites", {"code": "WH-BENCH", "name": "基准仓", "kind": "warehouse",
                                      "id": like.site_id if like else None})["id"]
        post("/api/v1/admin/users", {"username": BENCH_USER, "display_name": "张三",
                                     "password": secrets.token_urlsafe(16), "roles": [DEVICE_ROLE]})
        post("/api/v1/units", {"code": "PCS", "name": "件"})
        item_ids = [post("/api/v1/items", {"sku": f"SKU-{i:04d}", "name": f"物料 {i}", "unit_code": "PCS",
                                           "id": like.item_ids[i] if like else None})["id"]
                    for i in range(items)]
        warehouse = post("/api/v1/warehouses", {"site_id": site, "code": "W1", "name": "一号库",
                                                "negative_stock_policy": "allow"})["id"]
        location_ids = [post("/api/v1/locations", {"warehouse_id": warehouse, "code": f"A-{i:02d}-01",
                                                   "name": f"A区{i:02d}排",
                                                   "id": like.location_ids[i] if like else None})["id"]
                        for i in range(locations)]
    return MasterData(site, item_ids, location_ids)


def add_sites(server: ServerProcess, first: MasterData, count: int, *, locations: int = 2) -> list[MasterData]:
    """``count`` more sites, each with a warehouse and ``locations`` locations, sharing the items
    of ``first`` (made by ``create_master_data``), via the HQ API."""
    sites = []
    with server.hq_client() as hq:

        def post(path: str, body: dict[str, Any]) -> str:
            response = hq.post(path, json=body)
            response.raise_for_status()
            return response.json()["id"]

        for n in range(1, count + 1):
            site = post("/api/v1/sites", {"code": f"WH-{n:04d}", "name": f"基准仓 {n}", "kind": "warehouse"})
            warehouse = post("/api/v1/warehouses", {"site_id": site, "code": f"W{n:04d}", "name": f"{n}号库",
                                                    "negative_stock_policy": "allow"})
            location_ids = [post("/api/v1/locations", {"warehouse_id": warehouse, "code": f"A-{i:02d}-01",
                                                       "name": f"A区{i:02d}排"}) for i in range(locations)]
            sites.append(MasterData(site, first.item_ids, location_ids))
    return sites


def enrollment_codes(server: ServerProcess, site_id: str, count: int = 1) -> list[str]:
    """``count`` one-time codes from HQ, each enrolling one device for ``site_id`` as ``DEVICE_ROLE``."""
    with server.hq_client() as hq:
        codes = []
        for _ in range(count):
            response = hq.post("/api/v1/admin/enrollment-codes", json={"site_id": site_id, "role": DEVICE_ROLE})
            response.raise_for_status()
            codes.append(response.json()["code"])
    return codes


def last_applied_seqs(server: ServerProcess, site_ids: list[str]) -> dict[str, int]:
    """The server's ``last_applied_seq`` of every device enrolled for these sites, via the HQ API."""
    applied: dict[str, int] = {}
    with server.hq_client() as hq:
        for site_id in site_ids:
            response = hq.get("/api/v1/devices", params={"site_id": site_id})
            response.raise_for_status()
            applied.update({device["id"]: device["last_applied_seq"] for device in response.json()})
    return applied


# -- stock-move rows -------------------------------------------------------------------------

# Column order of ``stock_moves`` (the migration's and the model's); rows below follow it.
STOCK_MOVE_COLUMNS = ("id", "site_id", "kind", "item_id", "location_id", "quantity", "document_id", "reverses_id",
                      "reference", "occurred_at", "device_id", "seq", "hlc", "user_name", "_version")


_QUOTED_COLUMNS = ", ".join(f'"{name}"' for name in STOCK_MOVE_COLUMNS)
STOCK_MOVE_INSERT = f"INSERT INTO stock_moves ({_QUOTED_COLUMNS}) VALUES ({', '.join('?' * len(STOCK_MOVE_COLUMNS))})"


def fresh_stock_moves_file(path: Path) -> sqlite3.Connection:
    """A new SQLite file holding only ``stock_moves`` (the model's definition, indexes included),
    opened in autocommit mode with the pragmas the server and the replica use."""
    from sqlalchemy import create_engine

    from erp.inventory.stock_move import stock_moves
    from sync.schema import metadata

    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine, tables=[stock_moves])
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def raw_insert_seconds(path: Path, rows: list[tuple], per_commit: int) -> float:
    """The baseline: seconds for raw sqlite3 executemany of ``rows`` into a fresh stock_moves file."""
    conn = fresh_stock_moves_file(path)
    try:
        return timed_inserts(conn, rows, per_commit)
    finally:
        conn.close()


def timed_inserts(conn: sqlite3.Connection, rows: list[tuple], per_commit: int) -> float:
    """Seconds to insert ``rows`` with ``executemany``, one transaction per ``per_commit`` rows."""
    elapsed = stopwatch()
    for start in range(0, len(rows), per_commit):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(STOCK_MOVE_INSERT, rows[start:start + per_commit])
        conn.execute("COMMIT")
    return elapsed()


def stock_move_rows(count: int, master: MasterData, *, device_id: str, version: int,
                    progress: Callable[[int], None] | None = None) -> list[tuple]:
    """``count`` receipt rows as the server stores them on SQLite (Decimal and time as text)."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    start_ms = int(start.timestamp() * 1000)
    items, locations = master.item_ids, master.location_ids
    node = device_id[-12:]
    rows = []
    for i in range(count):
        moment = start + timedelta(seconds=i)
        rows.append((
            new_id(), master.site_id, "receipt", items[i % len(items)], locations[i % len(locations)],
            str(1 + i % 50), None, None, f"PO-{i // 100:07d}",
            moment.isoformat().replace("+00:00", "Z"), device_id, i + 1,
            f"{start_ms + i * 1000:015d}-00000-{node}", "张三", version,
        ))
        if progress is not None and (i + 1) % 250_000 == 0:
            progress(i + 1)
    return rows


def stopwatch() -> Callable[[], float]:
    started = time.perf_counter()
    return lambda: time.perf_counter() - started


# -- devices on the wire, without a replica ------------------------------------------------

VERSIONS = {"protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION}

# Arguments are encoded as the device encodes them before queueing (edge_client/rebase.py).
_ARGS_ENCODER = msgspec.msgpack.Encoder(decimal_format="string")


@functools.cache
def _receive_version() -> int:
    """The version of ``inventory.receive`` a current device sends."""
    return discover().resolve_latest("inventory.receive").version


def receipt_envelopes(item_ids: list[str], location_ids: list[str], *, first_seq: int, count: int,
                      clock: HybridLogicalClock) -> list[MutationEnvelope]:
    """``count`` valid ``inventory.receive`` mutations numbered from ``first_seq``, rotating over
    the items and then the locations, so on-hand rows are both created and updated."""
    now = datetime.now(timezone.utc)
    envelopes = []
    for seq in range(first_seq, first_seq + count):
        i = seq - 1
        args = Receive(move_id=new_id(), item_id=item_ids[i % len(item_ids)],
                       location_id=location_ids[(i // len(item_ids)) % len(location_ids)],
                       quantity=Decimal(1 + i % 7), occurred_at=now, reference=f"PO-{i // 50:05d}")
        envelopes.append(MutationEnvelope(seq=seq, name="inventory.receive", version=_receive_version(),
                                          args=msgspec.Raw(_ARGS_ENCODER.encode(args)),
                                          hlc=clock.tick().text(), user=BENCH_USER))
    return envelopes


class WireError(Exception):
    """The server refused a request (an HTTP error status)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


async def exchange(http: httpx.AsyncClient, path: str, message: Any, reply_type: type[T],
                   auth: DeviceSignature | None = None) -> T:
    """One MessagePack request and its decoded answer, with the headers the device sends
    (``auth``: its bearer token and request signature)."""
    headers = {"content-type": MSGPACK, "accept": MSGPACK}
    response = await http.post(path, content=encode(message), headers=headers,
                               auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT)
    if response.status_code >= 400:
        raise WireError(f"{path}: {response.status_code} {response.text[:300]}", response.status_code)
    return decode(response.content, reply_type)


@dataclass
class WireDevice:
    """An enrolled device that speaks the sync protocol but keeps no replica.

    It numbers its mutations 1, 2, 3, …, pushes them in order, and pulls from its cursor until
    caught up. An answer a real device must not accept (a mutation not applied, an
    acknowledgement that does not cover the push, a cursor that goes backwards) raises
    ``AssertionError``: the benchmark would be measuring a broken server.
    """

    device_id: str
    auth: DeviceSignature  # its key and bearer token: signs every request
    site_id: str
    next_seq: int = 1
    cursor: int = 0
    clock: HybridLogicalClock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = HybridLogicalClock(node=self.device_id[-12:])

    async def push_receipts(self, http: httpx.AsyncClient, item_ids: list[str], location_ids: list[str],
                            count: int) -> PushResponse:
        envelopes = receipt_envelopes(item_ids, location_ids, first_seq=self.next_seq, count=count, clock=self.clock)
        request = PushRequest(**VERSIONS, device_id=self.device_id, mutations=envelopes)
        answer = await exchange(http, "/sync/v1/push", request, PushResponse, self.auth)
        last = envelopes[-1].seq
        if answer.last_applied_seq != last or any(r.status != "applied" for r in answer.results):
            raise AssertionError(f"device {self.device_id}: push of {envelopes[0].seq}..{last} answered "
                                 f"last_applied_seq {answer.last_applied_seq}, "
                                 f"statuses {sorted({r.status for r in answer.results})}")
        self.next_seq = last + 1
        return answer

    async def pull_until_caught_up(self, http: httpx.AsyncClient) -> int:
        """Pull pages from the cursor until the server has no more; returns the rows received."""
        rows = 0
        while True:
            request = PullRequest(**VERSIONS, device_id=self.device_id, site_id=self.site_id, cursor=self.cursor,
                                  limit=PULL_PAGE)
            page = await exchange(http, "/sync/v1/pull", request, PullResponse, self.auth)
            if page.cursor < self.cursor:
                raise AssertionError(f"device {self.device_id}: cursor went back from {self.cursor} to {page.cursor}")
            self.cursor = page.cursor
            rows += sum(len(table.rows) for table in page.tables)
            if not page.has_more:
                return rows


async def enroll_devices(http: httpx.AsyncClient, site_id: str, codes: list[str], *, name: str,
                         concurrency: int = 16) -> list[WireDevice]:
    """Enroll a device for ``site_id`` with each of ``codes`` over HTTP, ``concurrency`` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, code: str) -> WireDevice:
        async with gate:
            key = Ed25519PrivateKey.generate()
            request = EnrollRequest(**VERSIONS, site_id=site_id, device_name=f"{name} {i}", enrollment_code=code,
                                    public_key=public_key_text(key))
            answer = await exchange(http, "/sync/v1/enroll", request, EnrollResponse)
        return WireDevice(answer.device_id, DeviceSignature(key, token=answer.token), answer.site_id)

    return list(await asyncio.gather(*(one(i, code) for i, code in enumerate(codes))))


# -- the server's memory --------------------------------------------------------------------


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:  # the process ended between listing and reading
        pass
    return 0


def process_tree_rss(pid: int) -> int:
    """Bytes: the sum of VmRSS of ``pid`` and all its descendants (with several workers uvicorn
    forks them). Pages shared between processes count once per process."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; the fields after its last ")" do not.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _rss_bytes(current)
        pending.extend(children.get(current, ()))
    return total


class PeakRss:
    """Samples ``process_tree_rss(pid)`` every ``interval`` seconds in a thread while open;
    ``peak`` is the highest sample (in bytes)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, process_tree_rss(self.pid))
            self.samples += 1
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, process_tree_rss(self.pid))
