"""The shop floor's edge commands against a real server: list the site's orders, report an
operation start and finish, issue and return material, complete with backflush, offline-capable
from the replica, and see it all at HQ after one sync."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jcerp.cli import main
from server.process import ServerProcess
from tests.scenarios.test_shop_floor_stories import build_plant, work_order
from tests.support import build_world, enrollment_code

pytestmark = pytest.mark.slow


def test_an_operator_runs_a_work_order_from_the_command_line(tmp_path, capsys):
    with ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}") as server:
        hq = server.hq_client(timeout=30)
        world = build_world(hq)
        plant = build_plant(hq, world)
        order = work_order(hq, world, plant, "WO-CLI-1", "2")
        home = str(tmp_path / "line")

        def jcerp(*args: str) -> str:
            code = main(["edge", "--home", home, *args])
            out = capsys.readouterr()
            assert code == 0, out.err
            return out.out

        jcerp("init", "--server", server.url, "--site", "WH1", "--name", "产线平板",
              "--code", enrollment_code(hq, world.site, "shop_floor_operator"))
        assert "WO-CLI-1\treleased\tFG-100\t0/2\tdue 2026-03-06" in jcerp("work-orders")
        shown = jcerp("work-order", "WO-CLI-1")
        assert "C-NPL\tissue\trequired 2" in shown and "operation 20\t试验\tpending" in shown

        # Nobody is signed in on the tablet: a report must say who did the work.
        assert main(["edge", "--home", home, "op-start", "WO-CLI-1", "--op", "10"]) == 2
        assert "--operator" in capsys.readouterr().err
        assert "张三: start operation 10 of WO-CLI-1" in jcerp("op-start", "WO-CLI-1", "--op", "10",
                                                               "--operator", "张三")
        assert "(good 2, scrap 0)" in jcerp("op-finish", "WO-CLI-1", "--op", "10", "--operator", "张三",
                                            "--good", "2")
        assert "issued 3 × C-NPL for WO-CLI-1" in jcerp("wo-issue", "WO-CLI-1", "--item", "C-NPL", "--qty", "3")
        assert "returned 1 × C-NPL" in jcerp("wo-return", "WO-CLI-1", "--item", "C-NPL", "--qty", "1",
                                             "--location", "A-01")
        assert "completed 2 of WO-CLI-1" in jcerp("wo-complete", "WO-CLI-1", "--qty", "2")
        assert "applied 5" in jcerp("sync")

        seen = hq.get(f"/api/v1/manufacturing/work-orders/{order['id']}").json()
        assert (seen["work_order"]["status"], Decimal(seen["work_order"]["completed_quantity"])) == ("completed", 2)
        issued = {m["item_id"]: Decimal(m["issued_quantity"]) for m in seen["materials"]}
        assert issued == {plant.nameplate: 2, plant.housing: Decimal("2.1"), plant.bolt: 8, plant.gear: Decimal("4.4")}
        assert [(r["operator"], r["event"]) for r in seen["reports"]] == [("张三", "start"), ("张三", "finish")]
        assert "WO-CLI-1\tcompleted" in jcerp("work-orders", "--status", "completed")
        assert main(["edge", "--home", home, "wo-complete", "WO-404", "--qty", "1"]) == 2
        assert "no work order WO-404" in capsys.readouterr().err
        hq.close()
