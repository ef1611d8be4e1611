"""The dock's lot commands against a real server: receive lots with and without a printed expiry,
list them with FEFO picks from the replica, hold one (refused at once for picking on the same
device), release it, and see it all at HQ."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jcerp.cli import main
from server.process import ServerProcess
from tests.support import build_world, enrollment_code

pytestmark = pytest.mark.slow


def test_a_clerk_receives_lists_holds_and_releases_lots_from_the_command_line(tmp_path, capsys):
    with ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}") as server:
        hq = server.hq_client(timeout=30)
        world = build_world(hq)
        milk = hq.post("/api/v1/items", json={"sku": "MILK-9", "name": "酸奶 𠮷", "unit_code": "PCS",
                                              "tracking": "lot", "shelf_life_days": 3650}).json()["id"]
        home = str(tmp_path / "dock")

        def jcerp(*args: str) -> str:
            code = main(["edge", "--home", home, *args])
            out = capsys.readouterr()
            assert code == 0, out.err
            return out.out

        jcerp("init", "--server", server.url, "--site", "WH1", "--name", "收货平板",
              "--code", enrollment_code(hq, world.site, "branch_manager"))
        assert "received 10 × MILK-9" in jcerp("receive", "--item", "MILK-9", "--location", "A-01", "--qty", "10",
                                                "--lot", "L-LATE")  # expiry from the shelf life: years away
        jcerp("receive", "--item", "MILK-9", "--location", "A-02", "--qty", "6", "--lot", "L-SOON",
              "--expires", "2030-01-31")
        listed = jcerp("lots", "--item", "MILK-9", "--pick", "8")
        assert "MILK-9\tL-SOON\texpires 2030-01-31\ton hand 6\tA-02 6\treleased" in listed
        assert "FEFO picks for 8:\n  L-SOON\tA-02\t6" in listed and "  L-LATE\tA-01\t2" in listed

        assert "held lot L-SOON" in jcerp("hold-lot", "--item", "MILK-9", "--lot", "L-SOON", "--reason", "外包装破损")
        assert main(["edge", "--home", home, "issue", "--item", "MILK-9", "--location", "A-02", "--qty", "1",
                     "--lot", "L-SOON"]) == 2
        assert "on hold" in capsys.readouterr().err
        assert "applied 3" in jcerp("sync")
        [lot] = hq.get("/api/v1/lots", params={"site_id": world.site, "status": "held"}).json()
        assert (lot["lot_no"], lot["item_id"], lot["hold_reason"]) == ("L-SOON", milk, "外包装破损")
        assert "held: 外包装破损" in jcerp("lots", "--held")

        jcerp("release-lot", "--item", "MILK-9", "--lot", "L-SOON", "--reason", "更换包装")
        assert "issued 1 × MILK-9" in jcerp("issue", "--item", "MILK-9", "--location", "A-02", "--qty", "1",
                                             "--lot", "L-SOON")
        assert "applied 2" in jcerp("sync")
        lots = {lot["lot_no"]: lot for lot in hq.get("/api/v1/lots", params={"item_id": milk}).json()}
        assert lots["L-SOON"]["status"] == "released" and Decimal(lots["L-SOON"]["on_hand"]) == 5
        assert hq.get("/api/v1/inventory-exceptions").json() == []
        hq.close()
