"""Shared pieces of the benchmarks: the run session, figures and targets, machine facts,
master data through the HQ API, scratch PostgreSQL databases, and stock-move rows.

A ``Figure`` is one line of the results table: an absolute measurement, the baseline it is
compared with (measured in the same run), the ratio between the two, and the spec's target
with whether it was met and by how much.
"""

from __future__ import annotations

import asyncio
import os
import platform
import secrets
import sqlite3
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
from sqlalchemy.engine import make_url

from server.process import ServerProcess
from sync.ids import new_id

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
    sizes: dict[str, int] = field(default_factory=dict)  # explicit overrides from the command line
    notes: list[str] = field(default_factory=list)  # findings worth reading next to the table
    artifacts: dict[str, str] = field(default_factory=dict)  # name -> file written under results/
    results_dir: Path = Path(__file__).parent / "results"
    _pg_reason: str | None = None
    _pg_checked: bool = False

    def size(self, name: str, full: int, quick: int) -> int:
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
    server = ServerProcess(db_url, log_path=log_path)
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


def create_master_data(base_url: str, *, items: int = 1, locations: int = 1,
                       like: MasterData | None = None) -> MasterData:
    """A site with one warehouse, ``items`` items and ``locations`` locations, via the HQ API.

    ``like`` reuses the ids of master data made on another server, so mutations recorded
    against one server can be sent to the other unchanged.
    """
    with httpx.Client(base_url=base_url, timeout=60) as hq:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = hq.post(path, json=body)
            response.raise_for_status()
            return response.json()

        site = post("/api/v1/sites", {"code": "WH-BENCH", "name": "基准仓", "kind": "warehouse",
                                      "id": like.site_id if like else None})["id"]
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
