"""The ``jcerp`` command as people use it: the demo, and a device driven from the edge CLI
against a real server process."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jcerp.cli import main
from jcerp.demo import run_demo
from server.process import ServerProcess
from tests.support import build_world, enrollment_code

pytestmark = pytest.mark.slow


def test_the_demo_converges_and_says_so(tmp_path, capsys):
    assert run_demo(tmp_path) == 0
    out = capsys.readouterr().out
    assert "server   -10" in out and "tablet A -10" in out and "tablet B -10" in out
    assert "negative_stock: quantity -10" in out
    assert "made 4, applied 4, rejected 0, pending 0" in out
    assert "converged: yes" in out


def test_a_clerk_works_a_device_from_the_command_line(tmp_path, capsys):
    with ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}") as server:
        hq = server.hq_client(timeout=30)
        world = build_world(hq)
        # The clerk who signs the receipt exists at HQ, works at this site, and may receive.
        created = hq.post("/api/v1/admin/users", json={"username": "张三", "display_name": "张三", "roles": ["warehouse_clerk"],
                                                        "password": "仓库-口令-2026", "site_id": world.site})
        assert created.status_code == 201, created.text
        home = str(tmp_path / "tablet")

        def jcerp(*args: str) -> str:
            code = main(["edge", "--home", home, *args])
            out = capsys.readouterr()
            assert code == 0, out.err
            return out.out

        assert "enrolled device" in jcerp("init", "--server", server.url, "--site", "WH1", "--name", "平板A",
                                             "--code", enrollment_code(hq, world.site))
        assert "received 5" in jcerp("receive", "--item", "6900000000017", "--location", "A-01", "--qty", "5",
                                     "--user", "张三")
        assert "issued 2" in jcerp("issue", "--item", "SKU-1", "--location", "A-01", "--qty", "2")
        status = jcerp("status")
        assert "pending                    2" in status
        assert "applied 2" in jcerp("sync")
        assert "SKU-1" in jcerp("onhand") and "3" in jcerp("onhand")
        assert "inbox empty" in jcerp("inbox")
        assert Decimal(hq.get("/api/v1/on-hand").json()[0]["quantity"]) == 3
        assert "moved 1" in jcerp("transfer", "--item", "SKU-1", "--from", "A-01", "--to", "A-02", "--qty", "1")
        assert "adjusted SKU-1" in jcerp("adjust", "--item", "SKU-1", "--location", "A-01", "--qty", "-0.5",
                                         "--reason", "破损")
        assert "counted 4" in jcerp("count", "--item", "SKU-1", "--location", "A-02", "--counted", "4")
        jcerp("sync")
        quantities = {row["location_id"]: Decimal(row["quantity"]) for row in hq.get("/api/v1/on-hand").json()}
        assert sorted(quantities.values()) == [Decimal("1.5"), Decimal(4)]

        # An operation on something the device does not know is refused with a message.
        assert main(["edge", "--home", home, "receive", "--item", "NOPE", "--location", "A-01", "--qty", "1"]) == 2
        assert "no item" in capsys.readouterr().err
        # Enrolling the same home twice is refused.
        assert main(["edge", "--home", home, "init", "--server", server.url, "--site", "WH1", "--name", "x",
                     "--code", "UNUSED"]) == 2
        assert "already holds device" in capsys.readouterr().err
        hq.close()
