"""The receiving dock's edge commands against a real server: list the open orders, receive
against one offline-capable from the replica, return some, and see it all written back at HQ."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jcerp.cli import main
from server.process import ServerProcess
from tests.support import build_world, enrollment_code

pytestmark = pytest.mark.slow


def test_a_clerk_receives_and_returns_against_a_purchase_order_from_the_command_line(tmp_path, capsys):
    with ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}") as server:
        hq = server.hq_client(timeout=30)
        world = build_world(hq)
        supplier = hq.post("/api/v1/suppliers", json={"code": "S1", "name": "武汉钢铁 𠀋"}).json()["id"]
        order = hq.post("/api/v1/purchase-orders", json={
            "site_id": world.site, "number": "PO-77", "supplier_id": supplier,
            "lines": [{"item_id": world.item, "quantity": "20", "unit_price": "1.2"},
                      {"item_id": world.item2, "quantity": "5", "unit_price": "3"}]}).json()
        assert hq.post(f"/api/v1/purchase-orders/{order['id']}/approve").status_code == 200
        home = str(tmp_path / "dock")

        def jcerp(*args: str) -> str:
            code = main(["edge", "--home", home, *args])
            out = capsys.readouterr()
            assert code == 0, out.err
            return out.out

        jcerp("init", "--server", server.url, "--site", "WH1", "--name", "收货平板",
              "--code", enrollment_code(hq, world.site, "warehouse_clerk"))
        listed = jcerp("open-pos")
        assert "PO-77\t1\tSKU-1" in listed and "open 20" in listed and "PO-77\t2\tSKU-2" in listed
        # Two lines: the clerk must say which.
        assert main(["edge", "--home", home, "receive-po", "--po", "PO-77", "--location", "A-01", "--qty", "1"]) == 2
        assert "choose one with --line" in capsys.readouterr().err
        assert "received 20 against PO-77 line 1" in jcerp("receive-po", "--po", "PO-77", "--line", "1",
                                                            "--location", "A-01", "--qty", "20")
        assert "returned 2 of PO-77 line 1" in jcerp("return-po", "--po", "PO-77", "--line", "1",
                                                      "--location", "A-01", "--qty", "2")
        assert "applied 2" in jcerp("sync")
        line = hq.get(f"/api/v1/purchase-orders/{order['id']}").json()["lines"][0]
        assert (Decimal(line["received_quantity"]), Decimal(line["returned_quantity"])) == (20, 2)
        assert Decimal(line["open_quantity"]) == 2
        assert "open 2" in jcerp("open-pos")
        assert main(["edge", "--home", home, "receive-po", "--po", "PO-404", "--location", "A-01", "--qty", "1"]) == 2
        assert "no purchase order PO-404" in capsys.readouterr().err
        hq.close()
