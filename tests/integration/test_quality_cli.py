"""The inspector's edge commands against a real server: see what is waiting for inspection,
record a failing result from the replica, and find the nonconformance it raised, at HQ and on
the device."""

from __future__ import annotations

import pytest

from jcerp.cli import main
from server.process import ServerProcess
from tests.support import build_world, enrollment_code

pytestmark = pytest.mark.slow


def test_an_inspector_lists_inspects_and_sees_the_nonconformance_from_the_command_line(tmp_path, capsys):
    with ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}") as server:
        hq = server.hq_client(timeout=30)
        world = build_world(hq)
        plan = hq.post("/api/v1/quality/plans", json={
            "code": "IQC-1", "name": "来料检验 𠮷", "item_id": world.item, "stage": "incoming",
            "sample_kind": "fixed", "sample_value": "3",
            "characteristics": [{"name": "长度", "kind": "measured", "lower": "49.5", "upper": "50.5", "unit": "mm"},
                                {"name": "外观", "kind": "attribute"}]})
        assert plan.status_code == 201, plan.text
        supplier = hq.post("/api/v1/suppliers", json={"code": "S1", "name": "武汉钢铁 𠀋"}).json()["id"]
        order = hq.post("/api/v1/purchase-orders", json={
            "site_id": world.site, "number": "PO-88", "supplier_id": supplier,
            "lines": [{"item_id": world.item, "quantity": "40", "unit_price": "1.2"}]}).json()
        assert hq.post(f"/api/v1/purchase-orders/{order['id']}/approve").status_code == 200
        received = hq.post(f"/api/v1/purchase-orders/{order['id']}/receipts", json={
            "po_line_id": order["lines"][0]["id"], "location_id": world.location, "quantity": "40"})
        assert received.status_code == 201, received.text
        [receipt] = received.json()["receipts"]
        home = str(tmp_path / "qc")

        def jcerp(*args: str) -> str:
            code = main(["edge", "--home", home, *args])
            out = capsys.readouterr()
            assert code == 0, out.err
            return out.out

        jcerp("init", "--server", server.url, "--site", "WH1", "--name", "质检电脑",
              "--code", enrollment_code(hq, world.site, "branch_manager"))
        listed = jcerp("inspections")
        assert "incoming\tPO-88\t-\tSKU-1" in listed and "plan IQC-1\tsample 3" in listed
        assert receipt["id"] in listed
        with pytest.raises(SystemExit) as bad:  # argparse refuses it before anything runs
            main(["edge", "--home", home, "inspect", "--plan", "IQC-1", "--sample", "3", "--measure", "长度=abc"])
        assert bad.value.code == 2
        assert "the value is a number, or ok / ng" in capsys.readouterr().err
        out = jcerp("inspect", "--plan", "IQC-1", "--receipt", receipt["id"], "--lot", "L-88", "--lot-qty", "40",
                    "--sample", "3", "--measure", "长度=50.1", "--measure", "长度=50.7", "--measure", "外观=ok")
        assert out.startswith("fail (长度): result ") and "IQC-1 v1" in out
        assert "nothing to inspect" in jcerp("inspections")
        assert "open\tincoming\tSKU-1\tlot L-88\theld" in jcerp("ncrs")
        assert "applied 1" in jcerp("sync")

        [ncr] = hq.get("/api/v1/quality/nonconformances").json()
        assert (ncr["status"], ncr["lot_no"], ncr["source_id"]) == ("open", "L-88", receipt["id"])
        [lot] = hq.get("/api/v1/lots", params={"site_id": world.site, "status": "held"}).json()
        assert lot["lot_no"] == "L-88"
        decided = hq.post(f"/api/v1/quality/nonconformances/{ncr['id']}/disposition",
                          json={"disposition": "return_to_supplier", "note": "整批退货"})
        assert decided.status_code == 200, decided.text
        jcerp("sync")
        assert "dispositioned\tincoming\tSKU-1\tlot L-88\theld\treturn_to_supplier" in jcerp("ncrs")
        assert main(["edge", "--home", home, "inspect", "--plan", "IQC-404", "--sample", "1",
                     "--measure", "外观=ok"]) == 2
        assert "no active inspection plan IQC-404" in capsys.readouterr().err
        hq.close()
