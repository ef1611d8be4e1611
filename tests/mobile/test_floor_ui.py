"""The warehouse and shop-floor screens, real and headless: orders and lines are tapped, scans
are typed into the focused field as a keyboard-mode scanner types them, buttons are pressed,
and what each screen recorded is read back from the tablet's outbox. Each screen is saved as a
picture (under docs/mobile/ with ``JCERP_SCREENSHOTS=docs/mobile``).

Without the CJK font (scripts/ensure-tablet-deps) these tests skip, except in CI.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from sqlalchemy import select

from tests.mobile.ui_driver import Ui  # noqa: I001  (prepares Kivy before anything imports it)
from edge_client.local_tables import edge_outbox
from tests.mobile.conftest import LOT_EAN, PASSWORD
from tests.mobile.test_floor_presenters import dock
from tests.support import receive


@pytest.fixture
def ui(tablet_world, floor):
    driver = Ui(tablet_world.tablet)
    yield driver
    driver.close()


def outbox(tablet_world) -> list[tuple[str, dict]]:
    """The queued mutations, oldest first: (name, arguments)."""
    with tablet_world.client.engine.begin() as conn:
        rows = conn.execute(select(edge_outbox.c.name, edge_outbox.c.args).order_by(edge_outbox.c.seq)).all()
    return [(row.name, msgspec.msgpack.decode(row.args)) for row in rows]


def buttons(grid) -> list:
    """A list's buttons in screen order (Kivy keeps children last-added first)."""
    return list(reversed(grid.children))


def test_home_of_a_warehouse_clerk_and_of_an_operator(ui, tablet_world):
    ui.app.go("home")
    ui.frames(2)
    tiles = [t.screen for t in buttons(ui.app.views["home"].ids.tiles)]
    assert tiles == ["receipt", "po_receipt", "putaway", "transfer", "picking", "count", "lookup", "inbox",
                     "sync_status"]
    assert ui.tile("po_receipt").text == "采购收货"
    tablet_world.client.sign_in("wangwu", PASSWORD)
    ui.app.go("home")
    ui.frames(2)
    assert [t.screen for t in buttons(ui.app.views["home"].ids.tiles)] == [
        "wo_issue", "operation_report", "lookup", "inbox", "sync_status"]
    ui.shot("home-operator")


def test_a_receipt_against_a_po_by_taps_and_scans_offline(ui, tablet_world, floor):
    tablet_world.transport.online = False
    ui.press(ui.tile("po_receipt"))
    view = ui.screen
    assert view.name == "po_receipt" and ui.focus_on(view.ids.field_order)
    [order] = buttons(view.ids.orders)
    assert order.text == "PO-77  武汉钢铁 𠀋"
    ui.press(order)  # a tap on the order
    assert len(buttons(view.ids.lines)) == 2 and ui.focus_on(view.ids.field_item)
    ui.scan(f"]C101{'0' + LOT_EAN}17270531" + "10L2405-A\x1d306")  # GS1-128: item, expiry, lot, count
    assert view.ids.field_lot.text == "L2405-A" and view.ids.field_expiry.text == "2027-05-31"
    assert view.ids.field_quantity.text == "6" and ui.focus_on(view.ids.field_location)
    assert view.ids.hint.text == "第 2 行，还可收 10"
    ui.shot("po-receipt")
    ui.scan("A-01")  # the last field: Enter saves
    assert view.ids.note.text.startswith("已保存，第 ") and ui.focus_on(view.ids.field_item)
    assert buttons(view.ids.lines)[1].text.endswith("已收 6 · 未收 4")
    ui.press(buttons(view.ids.lines)[0])  # a tap on line 1 chooses its item
    assert view.ids.field_item.text == "SKU-1  螺栓 𠮷" and ui.focus_on(view.ids.field_quantity)
    ui.scan("25")  # the location was kept: Enter saves, and says it went over the order
    assert view.ids.note.kind == "warn" and view.ids.note.text.endswith("超收 5，已提醒采购员")
    [(first, args1), (second, args2)] = outbox(tablet_world)
    assert first == second == "purchasing.receive_po"
    assert (args1["lot_no"], args1["expires_on"], Decimal(args1["quantity"])) == ("L2405-A", "2027-05-31", 6)
    assert args1["po_line_id"] == floor.po["lines"][1]["id"] and args2["po_line_id"] == floor.po["lines"][0]["id"]
    assert Decimal(args2["quantity"]) == 25 and args2["lot_no"] is None


def test_putaway_from_the_dock_takes_the_suggested_bin_with_enter(ui, tablet_world):
    world = tablet_world.world
    receive(tablet_world.client, world, "12", location=dock(tablet_world))
    ui.app.go("putaway")
    ui.frames(2)
    view = ui.screen
    ui.scan("SKU-1")
    assert view.ids.hint.text == "建议库位：A-01  A01（直接按回车即采用）"
    assert ui.focus_on(view.ids.field_source)
    ui.scan("DOCK-1")
    assert ui.focus_on(view.ids.field_target)
    ui.scan("")  # Enter alone: the suggested bin
    assert view.ids.field_target.text == "A-01  A01" and ui.focus_on(view.ids.field_quantity)
    ui.shot("putaway")
    ui.scan("12")
    [(name, args)] = outbox(tablet_world)[-1:]
    assert name == "inventory.transfer" and args["to_location_id"] == world.location
    assert Decimal(args["quantity"]) == 12 and view.ids.field_source.text.startswith("DOCK-1")


def two_lots_and_an_order_for_them(tablet_world, floor) -> dict:
    """LOT-1 received in two lots (L-NEW at A-01 expiring 2028, L-OLD at A-02 expiring 2027),
    and sales order SO-78 for 8 of it, confirmed at HQ and synced."""
    from mobile.i18n import Translator
    from mobile.screens.po_receipt.presenter import PoReceiptPresenter

    hq, world = tablet_world.server, tablet_world.world
    receipt = PoReceiptPresenter(tablet_world.tablet, Translator("en"))
    receipt.enter()
    for lot, expiry, location in (("L-NEW", "280131", "A-01"), ("L-OLD", "270630", "A-02")):
        receipt.scan("item", f"01{'0' + LOT_EAN}17{expiry}10{lot}\x1d305")
        receipt.scan("location", location)
        assert receipt.save() is not None, receipt.note_text
    customer = hq.post("/api/v1/customers", json={"code": "C-78", "name": "汉口五金 𠮷"}).json()["id"]
    order = hq.post("/api/v1/sales-orders", json={"site_id": world.site, "number": "SO-78", "customer_id": customer,
                                                   "lines": [{"item_id": floor.lot_item, "quantity": "8",
                                                              "unit_price": "20"}]}).json()
    assert hq.post(f"/api/v1/sales-orders/{order['id']}/confirm").status_code == 200
    tablet_world.client.sync_once()
    return order


def test_picking_follows_the_fefo_suggestion(ui, tablet_world, floor):
    world = tablet_world.world
    order = two_lots_and_an_order_for_them(tablet_world, floor)
    ui.app.go("picking")
    ui.frames(2)
    view = ui.screen
    assert [b.text for b in buttons(view.ids.orders)] == ["SO-77  武汉钢构 𠀋", "SO-78  汉口五金 𠮷"]
    ui.scan("SO-78")
    assert ui.focus_on(view.ids.field_item)
    assert buttons(view.ids.lines)[0].text == ("1. LOT-1 密封胶 𠮷\n订购 8 · 已发 0 · 待发 8\n"
                                               "建议：A-02 · L-OLD · 5")
    ui.scan(LOT_EAN)
    assert view.ids.hint.text == "建议：A-02 批号 L-OLD 有效期 2027-06-30 数量 5" and ui.focus_on(view.ids.field_lot)
    ui.press(view.ids.suggestion_button)  # lot and location as suggested
    assert view.ids.field_lot.text == "L-OLD" and view.ids.field_location.text == "A-02  A02"
    assert ui.focus_on(view.ids.field_quantity)
    ui.shot("picking")
    ui.scan("5")  # the last field: Enter saves
    assert view.ids.note.text.startswith("已保存")
    [(name, args)] = outbox(tablet_world)[-1:]
    assert name == "sales.deliver" and args["order_line_id"] == order["lines"][0]["id"]
    assert (args["lot_no"], Decimal(args["quantity"]), args["location_id"]) == ("L-OLD", 5, world.location2)
    assert buttons(view.ids.lines)[0].text.endswith("建议：A-01 · L-NEW · 3")


def test_issue_to_a_work_order(ui, tablet_world, floor):
    world, plant = tablet_world.world, floor.plant
    receive(tablet_world.client, world, "10", item=plant.nameplate)
    tablet_world.client.sign_in("wangwu", PASSWORD)
    ui.app.go("home")
    ui.frames(2)
    ui.press(ui.tile("wo_issue"))
    view = ui.screen
    ui.press(buttons(view.ids.orders)[0])
    assert ui.focus_on(view.ids.field_item)
    ui.scan("C-NPL")
    ui.shot("wo-issue")
    ui.scan("2")  # the location may stay empty: the order's line side
    assert view.ids.note.text.startswith("已保存")
    [(name, args)] = outbox(tablet_world)[-1:]
    assert name == "manufacturing.issue_material" and args["work_order_id"] == floor.work_order["id"]
    assert (args["item_id"], Decimal(args["quantity"]), args["location_id"]) == (plant.nameplate, 2, None)


def test_operation_report_start_then_finish(ui, tablet_world, floor):
    tablet_world.client.sign_in("wangwu", PASSWORD)
    tablet_world.transport.online = False
    ui.app.go("operation_report")
    ui.frames(2)
    view = ui.screen
    ui.scan("WO-77")
    assert ui.focus_on(view.ids.field_operation)
    ui.scan("10")
    assert view.ids.start_button.opacity == 1 and view.ids.finish_button.disabled
    ui.press(view.ids.start_button)
    assert view.ids.note.text.startswith("工序 10 已开工") and not view.ids.finish_button.disabled
    assert view.ids.start_button.disabled and ui.focus_on(view.ids.field_good)
    ui.scan("2")
    ui.scan("0")
    assert view.ids.hint.text == "操作工：王五"
    ui.shot("operation-report")
    ui.press(view.ids.finish_button)
    assert buttons(view.ids.lines)[0].text == "10  装配 · 已完成\n合格 2 · 报废 0"
    reports = [args for name, args in outbox(tablet_world) if name == "manufacturing.report_operation"]
    assert [(r["event"], r["operator"], Decimal(r["good_quantity"])) for r in reports] == [
        ("start", "wangwu", 0), ("finish", "wangwu", 2)]
    assert all(r["operation_seq"] == 10 and r["work_order_id"] == floor.work_order["id"] for r in reports)


def test_the_floor_screens_in_english(ui, tablet_world):
    ui.app.translator.set_language("en")
    ui.app.go("po_receipt")
    ui.frames(2)
    view = ui.screen
    ui.scan("PO-77")
    assert buttons(view.ids.lines)[0].text == "1. SKU-1 螺栓 𠮷\nordered 20 · received 0 · open 20"
    ui.shot("po-receipt-en")


def test_qc_entry_by_scans_offline(ui, tablet_world, floor):
    from tests.mobile.conftest import hq_user
    from tests.mobile.test_floor_presenters import incoming_plan

    incoming_plan(tablet_world, floor)
    hq_user(tablet_world.server, "qianqi", "qc_inspector", tablet_world.world.site, "钱七")
    tablet_world.client.sync_once()
    tablet_world.client.sign_in("qianqi", PASSWORD)
    tablet_world.transport.online = False
    ui.app.go("home")
    ui.frames(2)
    ui.press(ui.tile("qc_entry"))
    view = ui.screen
    assert ui.focus_on(view.ids.field_item)
    ui.scan(f"01{'0' + LOT_EAN}10L2405-A")  # GS1: item and lot; its one plan is chosen
    assert view.ids.field_lot.text == "L2405-A" and view.ids.field_sample.text == "2"
    [plan] = buttons(view.ids.plans)
    assert plan.text == "IQC-LOT-1 v1  密封胶来料检验\n来料检验"
    diameter, looks = view.reading_fields["外径"], view.reading_fields["外观𠮷"]
    assert ui.focus_on(diameter)
    ui.scan("10.01 10.03")
    assert ui.focus_on(looks)
    ui.window.dispatch("on_textinput", "ok ok")
    ui.frames(1)
    ui.shot("qc-entry")
    ui.window.dispatch("on_key_down", 13, 40, None, [])
    ui.window.dispatch("on_key_up", 13, 40)
    ui.frames(2)
    assert view.ids.note.text.endswith("：合格") and ui.focus_on(diameter)
    [(name, args)] = outbox(tablet_world)[-1:]
    assert name == "quality.record_result" and (args["lot_no"], args["sample_size"]) == ("L2405-A", 2)
    assert [(m["characteristic"], m.get("value"), m.get("ok")) for m in args["measurements"]] == [
        ("外径", "10.01", None), ("外径", "10.03", None), ("外观𠮷", None, True), ("外观𠮷", None, True)]
