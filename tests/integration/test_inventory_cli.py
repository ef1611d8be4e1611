"""The counter's edge commands against a real server: list the site's open cycle counts (blind),
record counted quantities from the replica, sync, and see them at HQ ready for review."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jcerp.cli import main
from server.process import ServerProcess
from tests.support import build_world, enrollment_code

pytestmark = pytest.mark.slow


def test_a_clerk_lists_the_open_counts_and_records_counted_quantities_from_the_command_line(tmp_path, capsys):
    with ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}") as server:
        hq = server.hq_client(timeout=30)
        world = build_world(hq)
        home = str(tmp_path / "counter")

        def jcerp(*args: str) -> str:
            code = main(["edge", "--home", home, *args])
            out = capsys.readouterr()
            assert code == 0, out.err
            return out.out

        jcerp("init", "--server", server.url, "--site", "WH1", "--name", "盘点平板 𠮷",
              "--code", enrollment_code(hq, world.site, "warehouse_clerk"))
        jcerp("receive", "--item", "SKU-1", "--location", "A-01", "--qty", "30")
        assert "no open cycle counts" in jcerp("cycle-counts")
        count = hq.post("/api/v1/cycle-counts", json={
            "warehouse_id": world.warehouse, "number": "PD-88",
            "lines": [{"item_id": world.item, "location_id": world.location},
                      {"item_id": world.item2, "location_id": world.location2}]}).json()
        jcerp("sync")
        listed = jcerp("cycle-counts")
        assert "PD-88\t1\tSKU-1\t螺栓 𠮷\tA-01\t-\tnot counted\topen" in listed
        assert "PD-88\t2\tSKU-2" in listed and "30" not in listed  # blind: no system quantity shown

        assert "counted 28 on PD-88 line 1" in jcerp("count-line", "--count", "PD-88", "--line", "1", "--qty", "28")
        assert "counted 28\tcounting" in jcerp("cycle-counts")
        assert main(["edge", "--home", home, "count-line", "--count", "PD-88", "--line", "9", "--qty", "1"]) == 2
        assert "has no line 9" in capsys.readouterr().err
        assert main(["edge", "--home", home, "count-line", "--count", "PD-404", "--line", "1", "--qty", "1"]) == 2
        assert "no cycle count PD-404" in capsys.readouterr().err

        assert "applied 1" in jcerp("sync")
        seen = hq.get(f"/api/v1/cycle-counts/{count['id']}").json()
        assert seen["status"] == "counting"
        line = seen["lines"][0]
        assert (Decimal(line["counted_quantity"]), Decimal(line["system_quantity"])) == (28, 30)
        hq.close()
