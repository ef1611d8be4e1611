"""End to end, with a real server process: HQ goes down, a clerk signs in on the tablet and
receives goods from a GS1 label on the real receipt screen; the sync fails and the status says
offline; HQ comes back on the same database; the tablet syncs and the receipt, with the
clerk's name, lot and expiry, is in HQ's API."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.mobile.ui_driver import Ui  # noqa: I001  (prepares Kivy before anything imports it)
from edge_client.client import EdgeClient
from mobile.tablet import Tablet
from server.process import ServerProcess
from tests.mobile.conftest import LABELLED_EAN, PASSWORD, hq_user
from tests.support import build_world, enrollment_code

pytestmark = pytest.mark.slow


def test_a_receipt_made_offline_on_the_tablet_reaches_hq_when_it_is_back(tmp_path: Path):
    db = f"sqlite+aiosqlite:///{tmp_path / 'hq.db'}"
    server = ServerProcess(db, log_path=tmp_path / "server.log").start()
    try:
        with server.hq_client() as hq:
            world = build_world(hq)
            assert hq.post("/api/v1/items", json={"sku": "NUT-8", "name": "六角螺母 M8", "unit_code": "PCS",
                                                  "barcode": LABELLED_EAN}).status_code == 201
            hq_user(hq, "zhangsan", "warehouse_clerk", world.site, "张三")
            code = enrollment_code(hq, world.site, "warehouse_clerk")
        client = EdgeClient.enroll(tmp_path / "tablet", server_url=server.url, site_id=world.site,
                                   device_name="收货平板", enrollment_code=code)
        client.sync_once()
        client.sign_in("zhangsan", PASSWORD)  # the first sign-in on a tablet needs HQ
        client.sign_out()
    finally:
        server.stop()

    ui = Ui(Tablet(client))
    try:
        ui.app.go("sign_in")
        ui.frames(2)
        ui.scan("zhangsan")
        ui.window.dispatch("on_textinput", PASSWORD)
        ui.press(ui.screen.ids.sign_in_button)
        ui.until(lambda: ui.screen.name == "home")
        assert client.current_user().offline  # HQ is down: the tablet checked the password

        ui.press(ui.tile("receipt"))
        ui.scan(f"]C1010{LABELLED_EAN}17280229" + "10LOT-1\x1d3040")  # GTIN, expiry, lot, count 40
        ui.scan("A-01")
        assert ui.screen.ids.note.text.startswith("已保存")
        assert client.status().pending == 1

        ui.back()
        ui.press(ui.tile("sync_status"))
        view = ui.screen
        ui.press(view.ids.sync_button)
        ui.until(lambda: not ui.app.presenters["sync_status"].busy and view.ids.note.text)
        assert view.ids.state.text == "离线（稍后重试）" and client.status().pending == 1

        back = ServerProcess(db, port=server.port, admin_password=server.admin_password,
                             log_path=tmp_path / "server-again.log").start()
        try:
            ui.press(view.ids.sync_button)
            ui.until(lambda: not ui.app.presenters["sync_status"].busy and view.ids.state.text == "在线")
            assert client.status().pending == 0
            with back.hq_client() as hq:
                moves = hq.get("/api/v1/movements").json()["items"]
        finally:
            back.stop()
    finally:
        ui.close()
        client.close()
    [move] = moves
    assert (move["kind"], Decimal(move["quantity"]), move["user_name"], move["location_id"]) == (
        "receipt", 40, "zhangsan", world.location)
    assert move["reference"] == "lot=LOT-1; expiry=2028-02-29"
