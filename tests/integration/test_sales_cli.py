"""The dock's and the service office's edge commands against a real server: list the open sales
orders, deliver against one from the replica, take goods back, check availability, open a
service ticket and record a visit — and see it all at HQ after a sync."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jcerp.cli import main
from server.process import ServerProcess
from tests.support import build_world, enrollment_code

pytestmark = pytest.mark.slow


def test_a_clerk_delivers_and_a_service_office_records_a_visit_from_the_command_line(tmp_path, capsys):
    with ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}") as server:
        hq = server.hq_client(timeout=30)
        world = build_world(hq)
        customer = hq.post("/api/v1/customers", json={"code": "C-77", "name": "武汉钢构 𠀋",
                                                      "credit_limit": "50000"}).json()["id"]
        order = hq.post("/api/v1/sales-orders", json={
            "site_id": world.site, "number": "SO-77", "customer_id": customer,
            "lines": [{"item_id": world.item, "quantity": "20", "unit_price": "1.2"},
                      {"item_id": world.item2, "quantity": "5", "unit_price": "3"}]}).json()
        assert hq.post(f"/api/v1/sales-orders/{order['id']}/confirm").status_code == 200
        dock, office = str(tmp_path / "dock"), str(tmp_path / "office")

        def jcerp(home: str, *args: str) -> str:
            code = main(["edge", "--home", home, *args])
            out = capsys.readouterr()
            assert code == 0, out.err
            return out.out

        jcerp(dock, "init", "--server", server.url, "--site", "WH1", "--name", "发货平板",
              "--code", enrollment_code(hq, world.site, "warehouse_clerk"))
        jcerp(dock, "receive", "--item", "SKU-1", "--location", "A-01", "--qty", "30")
        assert "available 10" in jcerp(dock, "available", "--item", "SKU-1")  # 30 on hand, 20 reserved
        listed = jcerp(dock, "open-sos")
        assert "SO-77\t1\tSKU-1" in listed and "to deliver 20" in listed and "SO-77\t2\tSKU-2" in listed
        # Two lines: the clerk must say which.
        assert main(["edge", "--home", dock, "deliver", "--so", "SO-77", "--location", "A-01", "--qty", "1"]) == 2
        assert "choose one with --line" in capsys.readouterr().err
        assert "delivered 20 of SO-77 line 1" in jcerp(dock, "deliver", "--so", "SO-77", "--line", "1",
                                                       "--location", "A-01", "--qty", "20")
        assert "returned 2 of SO-77 line 1" in jcerp(dock, "return-so", "--so", "SO-77", "--line", "1",
                                                     "--location", "A-01", "--qty", "2")
        assert "applied 3" in jcerp(dock, "sync")
        line = hq.get(f"/api/v1/sales-orders/{order['id']}").json()["lines"][0]
        assert (Decimal(line["delivered_quantity"]), Decimal(line["returned_quantity"])) == (20, 2)
        assert "available 12" in jcerp(dock, "available", "--item", "SKU-1")
        assert "SO-77\t1" not in jcerp(dock, "open-sos")  # line 1 is delivered; line 2 is still open
        assert main(["edge", "--home", dock, "deliver", "--so", "SO-404", "--location", "A-01", "--qty", "1"]) == 2
        assert "no sales order SO-404" in capsys.readouterr().err

        jcerp(office, "init", "--server", server.url, "--site", "WH1", "--name", "售后服务点",
              "--code", enrollment_code(hq, world.site, "sales_clerk"))
        # While online the office reserves its blocks of numbers; then it works from them.
        assert "a new block is requested" in jcerp(office, "reserve-numbers")
        jcerp(office, "sync")
        assert "100 ticket numbers left" in jcerp(office, "reserve-numbers")
        opened = jcerp(office, "open-ticket", "--customer", "C-77", "--complaint", "螺栓断裂", "--item", "SKU-1",
                       "--so", "SO-77")
        assert "under warranty until" in opened
        ref = opened.split("opened ticket ")[1].split()[0]
        assert ref == "ST-WH1-0000001" and ref in jcerp(office, "tickets")
        assert f"visit recorded on ticket {ref}" in jcerp(office, "visit", "--ticket", ref, "--technician", "王师傅",
                                                         "--work", "更换螺栓")
        taken = jcerp(office, "new-so", "--customer", "C-77", "--line", "SKU-2:2:3.5", "--confirm")
        assert taken.startswith("sales order SO-WH1-0000001 for 武汉钢构 𠀋: 1 lines, confirmed here")
        assert "applied 4" in jcerp(office, "sync")
        [ticket] = hq.get("/api/v1/service-tickets").json()
        assert ticket["number"] == ref and ticket["provisional_number"] is None and ticket["status"] == "visited" and ticket["under_warranty"] is True
        assert [v["technician"] for v in ticket["visits"]] == ["王师傅"]
        assert main(["edge", "--home", office, "visit", "--ticket", "ZZZZZZ", "--technician", "x", "--work", "y"]) == 2
        assert "no service ticket ZZZZZZ" in capsys.readouterr().err
        [taken_offline] = [o for o in hq.get("/api/v1/sales-orders").json() if o["number"] == "SO-WH1-0000001"]
        assert taken_offline["status"] == "confirmed" and Decimal(taken_offline["lines"][0]["reserved_quantity"]) == 2
        hq.close()
