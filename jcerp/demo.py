"""``jcerp demo``: two warehouse tablets keep working through a server outage, then converge.

1. start a central server on SQLite in a temporary directory (a real process on 127.0.0.1);
2. set up a site, an item and a location through the HQ API; enroll two edges for the site;
3. record receipts on both and sync;
4. stop the server;
5. both edges, offline, issue all the stock each of them sees (the last units);
6. start the server again and sync both edges.

It prints the on-hand at the server and at both edges, the inventory exception raised for the
negative stock, and the mutation counts. Exit status 1 if anything diverges or stays pending.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path


from edge_client.client import EdgeClient
from edge_client.lookup import on_hand_rows
from edge_client.transport import Unreachable
from erp.inventory.stock_move import Issue, Receive
from server.process import ServerProcess
from sync.ids import new_id


def _say(text: str) -> None:
    print(text, flush=True)


def run_demo(workdir: Path) -> int:
    made = 0
    server = ServerProcess(f"sqlite+aiosqlite:///{workdir / 'server.db'}", log_path=workdir / "server.log")
    _say(f"[1] starting the central server on {server.url} (SQLite in {workdir})")
    server.start()
    hq = server.hq_client(timeout=30)  # signed in as the administrator the server was started with
    site = hq.post("/api/v1/sites", json={"code": "WH-HY", "name": "汉阳成品仓", "kind": "warehouse"}).json()["id"]
    hq.post("/api/v1/units", json={"code": "PCS", "name": "件"})
    item = hq.post("/api/v1/items", json={"sku": "BRK-𠮷-01", "name": "制动卡钳 𠮷", "unit_code": "PCS"}).json()["id"]
    warehouse = hq.post("/api/v1/warehouses", json={"site_id": site, "code": "HY1", "name": "一号库"}).json()["id"]
    location = hq.post("/api/v1/locations", json={"warehouse_id": warehouse, "code": "A-01-01",
                                                  "name": "A区01排01位"}).json()["id"]

    for username, name in (("zhangsan", "张三"), ("lisi", "李四")):  # the clerks who sign the work
        hq.post("/api/v1/admin/users", json={"username": username, "display_name": name, "password": secrets.token_urlsafe(12),
                                             "roles": ["warehouse_clerk"], "site_id": site}).raise_for_status()

    def code() -> str:  # a one-time enrollment code for a warehouse-clerk tablet of the site
        answer = hq.post("/api/v1/admin/enrollment-codes", json={"site_id": site, "role": "warehouse_clerk"})
        answer.raise_for_status()
        return answer.json()["code"]

    _say("[2] enrolling two warehouse tablets for the site, each with a one-time code from HQ")
    a = EdgeClient.enroll(workdir / "tablet-a", server_url=server.url, site_id=site, device_name="平板A",
                          enrollment_code=code())
    b = EdgeClient.enroll(workdir / "tablet-b", server_url=server.url, site_id=site, device_name="平板B",
                          enrollment_code=code())
    for edge in (a, b):
        edge.sync_once()

    _say("[3] receipts on both tablets: A receives 6, B receives 4")
    now = datetime.now(timezone.utc)
    for edge, quantity in ((a, "6"), (b, "4")):
        edge.run("inventory.receive", Receive(move_id=new_id(), item_id=item, location_id=location,
                                              quantity=Decimal(quantity), occurred_at=now, reference="PO-0001"),
                 user="zhangsan")
        made += 1
    for edge in (a, b, a):
        edge.sync_once()

    _say("[4] the server goes away")
    server.stop()

    _say("[5] offline: each tablet sees 10 on hand and issues all 10")
    for edge, name in ((a, "A"), (b, "B")):
        with edge.engine.begin() as conn:
            quantity = sum((q for _, _, q in on_hand_rows(conn, site)), Decimal(0))
        edge.run("inventory.issue", Issue(move_id=new_id(), item_id=item, location_id=location, quantity=quantity,
                                          occurred_at=datetime.now(timezone.utc), reference=f"SO-{name}"),
                 user="lisi")
        made += 1
        try:
            edge.sync_once()
        except Unreachable:
            _say(f"    tablet {name}: server unreachable, {edge.status().pending} change(s) kept pending")

    _say("[6] the server comes back; both tablets sync")
    server.start()
    for edge in (a, b, a):
        edge.sync_once()

    server_on_hand = {(r["item_id"], r["location_id"]): Decimal(r["quantity"])
                      for r in hq.get("/api/v1/on-hand", params={"site_id": site}).json()}
    edge_on_hand = []
    for edge in (a, b):
        with edge.engine.begin() as conn:
            rows = conn.exec_driver_sql("SELECT item_id, location_id, quantity FROM on_hand").all()
        edge_on_hand.append({(r[0], r[1]): Decimal(r[2]) for r in rows})
    exceptions = hq.get("/api/v1/inventory-exceptions", params={"site_id": site}).json()
    rejections = hq.get("/api/v1/rejections", params={"site_id": site}).json()
    devices = hq.get("/api/v1/devices", params={"site_id": site}).json()
    applied = sum(d["last_applied_seq"] for d in devices) - len(rejections)
    pending = a.status().pending + b.status().pending

    _say("\n=== on-hand (item BRK-𠮷-01 at A-01-01) ===")
    _say(f"server   {server_on_hand.get((item, location))}")
    _say(f"tablet A {edge_on_hand[0].get((item, location))}")
    _say(f"tablet B {edge_on_hand[1].get((item, location))}")
    _say("\n=== inventory exceptions ===")
    for exception in exceptions:
        _say(f"{exception['kind']}: quantity {exception['quantity']}, status {exception['status']}, "
             f"mutations {[(m['device_id'][-6:], m['seq']) for m in exception['involved']]}")
    _say("\n=== mutations ===")
    _say(f"made {made}, applied {applied}, rejected {len(rejections)}, pending {pending}")

    converged = server_on_hand == edge_on_hand[0] == edge_on_hand[1]
    expected = server_on_hand.get((item, location)) == Decimal(-10) and len(exceptions) == 1
    ok = converged and expected and pending == 0 and applied + len(rejections) == made
    for edge in (a, b):
        edge.close()
    hq.close()
    server.stop()
    _say("\nconverged: yes" if ok else "\nDIVERGED: see above")
    return 0 if ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return run_demo(args.workdir)
    with tempfile.TemporaryDirectory(prefix="jcerp-demo-") as directory:
        return run_demo(Path(directory))


def add_demo_command(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="two tablets, an outage, negative stock, convergence")
    demo.add_argument("--workdir", type=Path, help="keep the databases here instead of a temporary directory")
    demo.set_defaults(handler=cmd_demo)
