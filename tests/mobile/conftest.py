"""Fixtures of the tablet app's tests: an HQ app in-process on SQLite with a small world, clerks
of several roles, and an enrolled tablet (a real ``EdgeClient`` whose test transport can go
offline) wrapped in ``mobile.tablet.Tablet``.

Kivy is not imported here: presenter tests run without it; the UI tests prepare it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from edge_client.client import EdgeClient
from mobile.i18n import Translator
from mobile.tablet import Tablet
from tests.support import FlakyTransport, World, build_world, enrollment_code, signed_in_app

PASSWORD = "仓库-口令-2026"
LABELLED_EAN = "6901234567892"


def hq_user(server: Any, username: str, role: str, site: str | None, display_name: str | None = None) -> str:
    answer = server.post("/api/v1/admin/users", json={"username": username,
                                                       "display_name": display_name or f"{username} 用户",
                                                       "roles": [role], "password": PASSWORD, "site_id": site})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


@dataclass
class TabletWorld:
    server: Any  # Litestar TestClient signed in as the HQ administrator
    world: World
    tablet: Tablet
    home: Path

    @property
    def client(self) -> EdgeClient:
        return self.tablet.client

    @property
    def transport(self) -> FlakyTransport:
        return self.tablet.client.transport  # type: ignore[return-value]


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[Any]:
    with signed_in_app(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}") as client:
        yield client


@pytest.fixture
def tablet_world(hq: Any, tmp_path: Path) -> Iterator[TabletWorld]:
    """A branch-manager tablet of site WH1, whose warehouse rejects negative stock, with users
    张三 (warehouse clerk, signed in), 李经理 (branch manager), 王五 (shop-floor operator) and
    𠮷田 (warehouse clerk with 4-byte characters in the name)."""
    world = build_world(hq, policy="reject")
    # A label-grade item: its barcode is a real EAN-13 (check digit right), as GS1 labels carry.
    answer = hq.post("/api/v1/items", json={"sku": "NUT-8", "name": "六角螺母 M8", "unit_code": "PCS",
                                            "barcode": LABELLED_EAN})
    assert answer.status_code == 201, answer.text
    hq_user(hq, "zhangsan", "warehouse_clerk", world.site, "张三")
    hq_user(hq, "manager", "branch_manager", world.site, "李经理")
    hq_user(hq, "wangwu", "shop_floor_operator", world.site, "王五")
    hq_user(hq, "yoshida", "warehouse_clerk", world.site, "𠮷田 𠀋")
    home = tmp_path / "tablet"
    client = EdgeClient.enroll(home, server_url="http://testserver.local", site_id=world.site,
                               device_name="平板-1", enrollment_code=enrollment_code(hq, world.site, "branch_manager"),
                               transport=FlakyTransport(client=hq))
    client.sync_once()
    client.sign_in("zhangsan", PASSWORD)
    tablet = Tablet(client)
    try:
        yield TabletWorld(hq, world, tablet, home)
    finally:
        client.replica.close()


@pytest.fixture
def t() -> Translator:
    return Translator("en")


@dataclass
class Floor:
    """The documents the warehouse and shop-floor screens work against (see ``floor``)."""

    po: dict
    so: dict
    work_order: dict
    lot_item: str
    plant: Any


LOT_EAN = "6901234567908"  # a lot-tracked item's EAN-13 (check digit right)


@pytest.fixture
def floor(tablet_world: TabletWorld) -> Floor:
    """On top of ``tablet_world``: a lot-tracked item (LOT-1, 365 days' shelf life); purchase
    order PO-77 (20 × SKU-1, 10 × LOT-1) approved; sales order SO-77 (20 × SKU-1, 5 × SKU-2)
    confirmed for customer 武汉钢构 𠀋; work order WO-77 for 2 gearboxes released, with
    operations 10 装配 and 20 试验; all synced to the tablet."""
    from tests.scenarios.test_shop_floor_stories import build_plant, work_order

    hq, world = tablet_world.server, tablet_world.world

    def post(path: str, body: dict, status: int = 201) -> dict:
        answer = hq.post(path, json=body)
        assert answer.status_code == status, answer.text
        return answer.json()

    lot_item = post("/api/v1/items", {"sku": "LOT-1", "name": "密封胶 𠮷", "unit_code": "PCS", "barcode": LOT_EAN,
                                      "tracking": "lot", "shelf_life_days": 365})["id"]
    supplier = post("/api/v1/suppliers", {"code": "S1", "name": "武汉钢铁 𠀋"})["id"]
    po = post("/api/v1/purchase-orders", {
        "site_id": world.site, "number": "PO-77", "supplier_id": supplier,
        "lines": [{"item_id": world.item, "quantity": "20", "unit_price": "1.2"},
                  {"item_id": lot_item, "quantity": "10", "unit_price": "8"}]})
    post(f"/api/v1/purchase-orders/{po['id']}/approve", {}, status=200)
    customer = post("/api/v1/customers", {"code": "C-77", "name": "武汉钢构 𠀋", "credit_limit": "50000"})["id"]
    so = post("/api/v1/sales-orders", {
        "site_id": world.site, "number": "SO-77", "customer_id": customer,
        "lines": [{"item_id": world.item, "quantity": "20", "unit_price": "1.2"},
                  {"item_id": world.item2, "quantity": "5", "unit_price": "3"}]})
    post(f"/api/v1/sales-orders/{so['id']}/confirm", {}, status=200)
    plant = build_plant(hq, world)
    order = work_order(hq, world, plant, "WO-77", "2")
    tablet_world.client.sync_once()
    return Floor(po, so, order, lot_item, plant)
