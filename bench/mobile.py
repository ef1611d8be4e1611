"""The tablet app's responsiveness: start-up to a usable home screen with 100,000 items in the
replica, switching screens, and answering a scan (targets: 3 s, 100 ms, 100 ms).

A replica is made directly (no server: what is measured is the tablet, not the sync): one
site, 20 locations, 100,000 items with Chinese names and EAN-13 barcodes, on-hand for a tenth
of them, and a warehouse clerk signed in. The app then runs headless (SDL2 offscreen, Mesa
llvmpipe: software rendering, slower than a tablet's GPU) in a child process, so start-up
includes the interpreter, Kivy, the window, the font and the replica, as a clerk waits for them.

Figures, each against a baseline measured in the same run:
- start-up to the first frame of the home screen (s), against a bare Kivy window with one
  label in the same font (interpreter + Kivy + window + font, nothing of ours);
- screen switch p50 and p99 (ms): ``app.go(screen)`` until its first frame is drawn and
  rasterized (``glFinish``), cycling through every screen, against redrawing the unchanged
  screen;
- scan response p50 and p99 (ms): a barcode typed into the focused receipt field plus Enter,
  until the item is resolved in the replica, the focus has moved and the frame is drawn,
  against the bare replica lookup (``edge_client.lookup.find_item``) of the same barcodes;
- pinyin-initials search p99 (ms) over the 100,000 items, and the index build time (s), which
  runs on a background thread after the home screen shows (no target; reported).

Run by ``python -m bench --only mobile``; the child is ``python -m bench.mobile --probe``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

NAME = "mobile"
ITEMS = (100_000, 20_000)  # full, quick
SAMPLES = (300, 40)
SWITCH_TARGET_MS = 100
STARTUP_TARGET_S = 3.0
PASSWORD = "平板-口令-2026"
NAMES = "螺栓垫圈钢板铝合金管件阀门轴承齿轮电机线缆塑料胶带纸箱油漆焊丝刀具模具弹簧链条皮带轮胎滤芯六角法兰不锈铜"


def _ean13(number: int) -> str:
    from mobile.gs1 import check_digit

    body = f"69{number:010d}"
    return body + str(check_digit(body))


def make_replica(home: Path, items: int, seed: int = 7) -> list[str]:
    """A signed-in tablet's replica with ``items`` items. Returns a sample of their barcodes."""
    from sqlalchemy import insert

    from edge_client.replica import Replica, set_meta
    from edge_client.sign_in import UserSessions
    from erp.inventory.item import items as items_table
    from erp.inventory.item import units
    from erp.inventory.on_hand import on_hand
    from erp.inventory.warehouse import locations, warehouses
    from erp.org.site import sites
    from protocol.sign_in import SignInResponse
    from sync.ids import new_id
    from sync.registry import discover

    rng = random.Random(seed)
    replica = Replica(home, discover())
    site, warehouse = new_id(), new_id()
    location_ids = [new_id() for _ in range(20)]
    item_rows = []
    for number in range(items):
        name = "".join(rng.choice(NAMES) for _ in range(rng.randint(2, 6))) + f" M{number % 48 + 3}"
        item_rows.append({"id": new_id(), "sku": f"SKU-{number:06d}", "name": name, "unit_code": "PCS",
                          "barcode": _ean13(number), "active": True, "_version": 1, "_field_versions": "{}"})
    with replica.engine.begin() as conn:
        conn.execute(insert(sites), [{"id": site, "code": "WH1", "name": "汉阳仓", "kind": "warehouse"}])
        conn.execute(insert(units), [{"code": "PCS", "name": "件"}])
        conn.execute(insert(warehouses), [{"id": warehouse, "site_id": site, "code": "W1", "name": "一号库",
                                           "negative_stock_policy": "flag"}])
        conn.execute(insert(locations), [{"id": location, "site_id": site, "warehouse_id": warehouse,
                                          "code": f"A-{i + 1:02d}", "name": f"A{i + 1:02d}"}
                                         for i, location in enumerate(location_ids)])
        conn.execute(insert(items_table), item_rows)
        conn.execute(insert(on_hand), [{"item_id": row["id"], "location_id": rng.choice(location_ids), "site_id": site,
                                        "quantity": rng.randint(1, 500)} for row in item_rows[::10]])
        for key, value in (("device_id", new_id()), ("site_id", site), ("device_name", "bench tablet"),
                           ("next_seq", 1), ("cursor", 1), ("last_applied_seq", 0), ("bootstrapped", 1),
                           ("role", "warehouse_clerk")):
            set_meta(conn, key, value)
    UserSessions(replica.engine).accept_online(SignInResponse(
        user_id=new_id(), username="zhangsan", display_name="张三", site_id=site, roles=["warehouse_clerk"],
        permissions=["inventory.view", "inventory.receive", "inventory.transfer", "inventory.count",
                     "sync.resolve_rejection", "sync.acknowledge_conflict"],
        valid_until=datetime.now(timezone.utc) + timedelta(days=7)), PASSWORD)
    replica.close()
    return [row["barcode"] for row in rng.sample(item_rows, min(len(item_rows), 2000))]


# -- the child process -----------------------------------------------------------------------


def _ms(samples: list[float]) -> dict[str, float]:
    from bench.common import percentile

    return {"p50": percentile(samples, 50) * 1000, "p99": percentile(samples, 99) * 1000,
            "mean": statistics.mean(samples) * 1000, "n": len(samples)}


def probe(home: Path, *, bare: bool, samples: int, barcodes: list[str]) -> dict[str, Any]:
    """Start the app (or a bare window), report start-up on stdout at once, then measure."""
    from mobile.headless import prepare

    prepare(headless=True, size=(1280, 800), quiet=True, kivy_home=str(home.parent / "kivy-home"))
    from kivy.base import EventLoop
    from kivy.graphics.opengl import glFinish

    if bare:
        from kivy.core.window import Window
        from kivy.uix.label import Label

        from mobile.fonts import register_default_font

        EventLoop.ensure_window()
        register_default_font()
        Window.add_widget(Label(text="江城 ERP 平板 𠮷"))
        EventLoop.idle()
        glFinish()
        print("READY", flush=True)
        return {}

    from kivy.core.window import Window

    from edge_client.client import EdgeClient
    from edge_client.lookup import find_item
    from mobile.app import SCREENS, TabletApp
    from mobile.tablet import Tablet

    EventLoop.ensure_window()
    tablet = Tablet(EdgeClient(home))
    app = TabletApp(tablet, background_sync=False)
    root = app.build()
    app.root = root
    Window.add_widget(root)
    app.on_start()  # starts the index build in the background
    EventLoop.idle()
    glFinish()
    assert app.manager.current == "home", app.manager.current
    print("READY", flush=True)

    tablet.index_ready.wait(120)

    def frame() -> None:
        # glFinish: Mesa's llvmpipe rasterizes on its own threads after the frame is submitted;
        # without waiting for it a figure would count the submission only.
        EventLoop.idle()
        glFinish()

    for _ in range(5):
        frame()
    idle_frames = []
    for _ in range(samples):
        Window.canvas.ask_update()  # the whole unchanged screen is drawn again
        started = time.perf_counter()
        frame()
        idle_frames.append(time.perf_counter() - started)

    order = [name for name in SCREENS if name != "sign_in"]
    switches = []
    for i in range(samples):
        target = order[i % len(order)]
        if target == app.manager.current:
            target = "home"
        started = time.perf_counter()
        app.go(target)
        frame()
        switches.append(time.perf_counter() - started)

    app.go("receipt")
    for _ in range(3):
        frame()
    presenter = app.presenters["receipt"]
    field = app.views["receipt"].ids.field_item
    scans, lookups = [], []
    for i in range(samples):
        barcode = barcodes[i % len(barcodes)]
        presenter.clear()
        presenter.note = None
        field.focus = True
        frame()
        started = time.perf_counter()
        Window.dispatch("on_textinput", barcode)
        Window.dispatch("on_key_down", 13, 40, None, [])
        Window.dispatch("on_key_up", 13, 40)
        frame()
        scans.append(time.perf_counter() - started)
        assert presenter.item is not None and presenter.item.barcode == barcode, presenter.note_text
        assert presenter.focus == "location"
    with tablet.client.engine.begin() as conn:
        for i in range(samples):
            started = time.perf_counter()
            find_item(conn, barcodes[i % len(barcodes)])
            lookups.append(time.perf_counter() - started)

    rng = random.Random(3)
    searches = []
    for _ in range(samples):
        query = "".join(rng.choice("lsdqgbljgjfm") for _ in range(rng.randint(2, 4)))
        started = time.perf_counter()
        tablet.search_items(query)
        searches.append(time.perf_counter() - started)
    app.on_stop()
    return {"index_build_s": tablet.index_seconds, "idle_frame": _ms(idle_frames), "switch": _ms(switches),
            "scan": _ms(scans), "lookup": _ms(lookups), "search": _ms(searches), "items": len(tablet._index or [])}


def _child(args: argparse.Namespace) -> int:
    barcodes = json.loads(Path(args.barcodes).read_text()) if args.barcodes else []
    result = probe(Path(args.home), bare=args.bare, samples=args.samples, barcodes=barcodes)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def start_child(home: Path, *, bare: bool, samples: int, barcodes_file: Path) -> tuple[float, dict[str, Any]]:
    """Run the probe; returns (seconds from spawn to its first frame, its measurements)."""
    command = [sys.executable, "-m", "bench.mobile", "--probe", "--home", str(home), "--samples", str(samples),
               "--barcodes", str(barcodes_file)] + (["--bare"] if bare else [])
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[1], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert child.stdout is not None
    ready = None
    result: dict[str, Any] = {}
    for line in child.stdout:
        if line.startswith("READY") and ready is None:
            ready = time.perf_counter() - started
        elif line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    error = child.stderr.read() if child.stderr else ""
    if child.wait(timeout=600) != 0 or ready is None:
        raise RuntimeError(f"tablet probe failed ({child.returncode}): {error[-2000:]}")
    return ready, result


# -- the benchmark ---------------------------------------------------------------------------


def run(session: Any) -> list[Any]:
    from bench.common import Figure, Target

    count = session.size("items", *ITEMS)
    samples = session.size("ui_samples", *SAMPLES)
    home = session.scratch(f"{NAME}/tablet")
    session.log(f"{NAME}: making a replica with {count:,} items")
    barcodes = make_replica(home, count)
    barcodes_file = home.parent / "barcodes.json"
    barcodes_file.write_text(json.dumps(barcodes))

    bare_runs, app_runs, results = [], [], []
    for attempt in range(3):  # median of three cold-ish starts of each
        bare_runs.append(start_child(home, bare=True, samples=samples, barcodes_file=barcodes_file)[0])
        ready, result = start_child(home, bare=False, samples=samples if attempt == 0 else 5,
                                    barcodes_file=barcodes_file)
        app_runs.append(ready)
        if attempt == 0:
            results.append(result)
    result = results[0]
    startup, bare = statistics.median(app_runs), statistics.median(bare_runs)
    session.log(f"{NAME}: start-up {startup:.2f} s (bare Kivy {bare:.2f} s); switch p99 {result['switch']['p99']:.1f} ms; "
                f"scan p99 {result['scan']['p99']:.1f} ms")
    ms_target = Target("<=", SWITCH_TARGET_MS, "ms", "within 100 ms")
    frame, lookup = result["idle_frame"], result["lookup"]
    size = f"{count:,} items"
    details = {"samples": samples, "startup_runs_s": app_runs, "bare_runs_s": bare_runs, **result}
    return [
        Figure(NAME, f"start-up to a usable home screen ({size})", "SQLite", "s", startup,
               baseline_name="bare Kivy window with the CJK font", baseline_value=bare,
               target=Target("<=", STARTUP_TARGET_S, "s", "within 3 s with 100,000 items"), details=details),
        Figure(NAME, "screen switch p50", "SQLite", "ms", result["switch"]["p50"],
               baseline_name="redrawing the unchanged screen, p50", baseline_value=frame["p50"], target=ms_target),
        Figure(NAME, "screen switch p99", "SQLite", "ms", result["switch"]["p99"],
               baseline_name="redrawing the unchanged screen, p99", baseline_value=frame["p99"], target=ms_target),
        Figure(NAME, f"scan to next field p50 ({size})", "SQLite", "ms", result["scan"]["p50"],
               baseline_name="replica barcode lookup, p50", baseline_value=lookup["p50"], target=ms_target),
        Figure(NAME, f"scan to next field p99 ({size})", "SQLite", "ms", result["scan"]["p99"],
               baseline_name="replica barcode lookup, p99", baseline_value=lookup["p99"], target=ms_target),
        Figure(NAME, f"pinyin-initials search p99 ({size})", "memory", "ms", result["search"]["p99"],
               baseline_name="replica barcode lookup, p99", baseline_value=lookup["p99"], target=ms_target),
        Figure(NAME, f"item index build, background ({size})", "memory", "s", result["index_build_s"],
               baseline_name="start-up to home", baseline_value=startup),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.mobile")
    parser.add_argument("--probe", action="store_true", required=True)
    parser.add_argument("--home", required=True)
    parser.add_argument("--bare", action="store_true")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--barcodes")
    sys.exit(_child(parser.parse_args()))
