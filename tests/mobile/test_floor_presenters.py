"""The warehouse and shop-floor presenters without a window, on a real enrolled tablet against an
HQ app in-process: receipt against a purchase order, put-away, picking and delivery, issue to a
work order and operation reports. Each records the same mutation the edge CLI records, offline
where the story says so, and HQ sees it after one sync."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_client import floor_queries
from edge_client.floor_queries import Document, DocumentLine
from mobile.documents import quantity_text
from mobile.gs1 import GS
from mobile.screens.home.presenter import HomePresenter
from mobile.screens.operation_report.presenter import OperationReportPresenter
from mobile.screens.picking.presenter import PickingPresenter
from mobile.screens.po_receipt.presenter import PoReceiptPresenter
from mobile.screens.putaway.presenter import PutawayPresenter
from mobile.screens.wo_issue.presenter import WoIssuePresenter
from tests.mobile.conftest import LOT_EAN, PASSWORD
from tests.mobile.test_presenters import made
from tests.support import receive, replica_rows


def moves_of(tablet_world, item: str) -> list[dict]:
    """The item's stock moves as HQ stores them (its database), lot and serial included."""
    from sqlalchemy import create_engine, select

    from erp.inventory.stock_move import stock_moves

    engine = create_engine(f"sqlite:///{tablet_world.home.parent / 'server.db'}")
    try:
        with engine.begin() as conn:
            rows = conn.execute(select(stock_moves).where(stock_moves.c.item_id == item)
                                .order_by(stock_moves.c.occurred_at)).mappings().all()
    finally:
        engine.dispose()
    return [dict(row) for row in rows]


# -- home ------------------------------------------------------------------------------------


def test_home_shows_the_floor_screens_each_role_may_use(tablet_world):
    presenter, _ = made(HomePresenter, tablet_world)
    presenter.enter()
    assert [tile.screen for tile in presenter.tiles] == ["receipt", "po_receipt", "putaway", "transfer", "picking",
                                                           "count", "lookup", "inbox", "sync_status"]
    tablet_world.client.sign_in("wangwu", PASSWORD)  # shop-floor operator
    presenter.enter()
    assert [tile.screen for tile in presenter.tiles] == ["wo_issue", "operation_report", "lookup", "inbox",
                                                           "sync_status"]
    tablet_world.client.sign_in("manager", PASSWORD)  # branch manager: everything
    presenter.enter()
    assert {"po_receipt", "putaway", "picking", "wo_issue", "operation_report"} <= {t.screen for t in presenter.tiles}


# -- receipt against a purchase order --------------------------------------------------------


def test_a_receipt_against_a_po_offline_shows_what_remains_and_warns_on_over_receipt(tablet_world, floor):
    tablet_world.transport.online = False
    presenter, _ = made(PoReceiptPresenter, tablet_world)
    presenter.enter()
    assert presenter.order_choices == ["PO-77  武汉钢铁 𠀋"] and presenter.line_choices == []
    assert presenter.scan("order", "PO-77") == "item"
    assert presenter.line_choices == ["1. SKU-1 螺栓 𠮷\nordered 20 · received 0 · open 20",
                                      "2. LOT-1 密封胶 𠮷\nordered 10 · received 0 · open 10"]
    assert presenter.scan("item", "6900000000017") == "quantity"
    assert presenter.line_hint == "Line 1, 20 still expected"
    assert presenter.scan("quantity", "12") == "location" and presenter.note is None
    assert presenter.scan("location", "A-01") is None
    seq = presenter.save()
    assert seq is not None and presenter.note_text == f"Saved as operation #{seq}, waiting to sync"
    # The order and the location stay for the next line; the line now shows what is left.
    assert presenter.values["order"] == "PO-77" and presenter.values["location"].startswith("A-01")
    assert presenter.focus == "item" and presenter.line_choices[0].endswith("received 12 · open 8")
    presenter.scan("item", "SKU-1")
    assert presenter.scan("quantity", "11") is None  # the location was kept: complete
    assert presenter.note.kind == "warn" and presenter.note_text.startswith("Over-receipt: 8 left on this line")
    seq2 = presenter.save()  # still recorded: the goods are on the dock
    assert seq2 == seq + 1 and presenter.note_text == f"Saved as operation #{seq2}; 3 over the order, the buyer is told"
    tablet_world.transport.online = True
    tablet_world.client.sync_once()
    line = tablet_world.server.get(f"/api/v1/purchase-orders/{floor.po['id']}").json()["lines"][0]
    assert Decimal(line["received_quantity"]) == 23
    exceptions = tablet_world.server.get("/api/v1/purchasing-exceptions").json()
    exceptions = exceptions.get("items", exceptions) if isinstance(exceptions, dict) else exceptions
    assert [e["kind"] for e in exceptions] == ["over_receipt"]
    assert sorted(Decimal(m["quantity"]) for m in moves_of(tablet_world, tablet_world.world.item)) == [11, 12]


def test_a_lot_tracked_line_needs_lot_and_expiry_which_a_gs1_label_fills(tablet_world, floor):
    presenter, _ = made(PoReceiptPresenter, tablet_world, "zh_CN")
    presenter.enter()
    presenter.choose_order(0)
    presenter.scan("item", "LOT-1")
    # A lot-tracked item: lot and expiry are stops; its shelf life gives a default expiry.
    assert presenter.STOPS == presenter.FIELDS
    today = tablet_world.tablet.now().date()
    assert presenter.values["expiry"] == (today + timedelta(days=365)).isoformat()
    presenter.scan("quantity", "4")
    presenter.scan("location", "A-01")
    assert presenter.save() is None and presenter.note_text == "LOT-1 按批次管理，请填写批号"
    assert presenter.focus == "lot"
    presenter.clear(keep=("order",))
    label = f"]C101{'0' + LOT_EAN}17270531" + f"10L2405-A{GS}306"
    assert presenter.scan("item", label) == "location"
    assert (presenter.values["lot"], presenter.values["expiry"], presenter.values["quantity"]) == (
        "L2405-A", "2027-05-31", "6")
    assert presenter.line.line_no == 2 and presenter.note_text == "已识别 GS1 标签：批号 L2405-A，有效期 2027-05-31"
    presenter.scan("location", "A-02")
    assert presenter.save() is not None
    tablet_world.client.sync_once()
    [move] = moves_of(tablet_world, floor.lot_item)
    assert move["lot_no"] == "L2405-A" and Decimal(move["quantity"]) == 6
    assert move["reference"] == "PO PO-77/2"


def test_refused_scans_on_a_po_receipt_say_why_and_record_nothing(tablet_world, floor):
    presenter, _ = made(PoReceiptPresenter, tablet_world)
    presenter.enter()
    assert presenter.scan("order", "PO-404") == "order" and presenter.note.key == "edge.unknown_po"
    # No order chosen: an item on exactly one open order chooses it.
    assert presenter.scan("item", "SKU-1") == "quantity" and presenter.values["order"] == "PO-77"
    assert presenter.scan("item", "SKU-2") == "item"
    assert presenter.note_text == "SKU-2 is not on order PO-77"
    assert presenter.scan("quantity", "0") == "quantity" and presenter.note.key == "mobile.bad_quantity"
    assert presenter.scan("expiry", "2027-02-30") == "expiry" and presenter.note.key == "mobile.bad_date"
    assert tablet_world.client.status().pending == 0


# -- put-away --------------------------------------------------------------------------------


def dock(tablet_world) -> str:
    """A receiving location DOCK-1 (never suggested as a bin), synced to the tablet."""
    answer = tablet_world.server.post("/api/v1/locations", json={
        "warehouse_id": tablet_world.world.warehouse, "code": "DOCK-1", "name": "收货区 𠮷", "kind": "receiving"})
    assert answer.status_code == 201, answer.text
    tablet_world.client.sync_once()
    return answer.json()["id"]


def test_putaway_moves_received_goods_to_the_bin_the_clerk_scans(tablet_world):
    world = tablet_world.world
    receive(tablet_world.client, world, "10", location=dock(tablet_world))
    presenter, _ = made(PutawayPresenter, tablet_world)
    assert presenter.scan("item", "SKU-1") == "source"
    # Nothing of SKU-1 in a storage bin yet: the first empty bin is suggested; the clerk takes another.
    assert presenter.suggestion_text == "Suggested bin: A-01  A01 (press Enter to take it)"
    assert presenter.scan("source", "DOCK-1") == "target"
    assert presenter.scan("target", "A-02") == "quantity"
    assert presenter.scan("quantity", "4") is None
    assert presenter.save() is not None and presenter.values["source"].startswith("DOCK-1")
    assert tablet_world.tablet.quantity_at(world.item, world.location2) == 4
    # Now A-02 holds SKU-1: it is the suggestion, and Enter on the empty bin field takes it.
    assert presenter.scan("item", "SKU-1") == "target"
    assert presenter.suggestion_text == "Suggested bin: A-02  A02 (press Enter to take it)"
    assert presenter.scan("target", "") == "quantity" and presenter.values["target"] == "A-02  A02"
    presenter.scan("quantity", "6")
    assert presenter.save() is not None
    assert tablet_world.tablet.quantity_at(world.item, world.location2) == 10


def test_without_a_suggestion_enter_on_the_empty_bin_waits_for_a_scan(tablet_world, monkeypatch):
    world = tablet_world.world
    receive(tablet_world.client, world, "10")
    monkeypatch.setattr(floor_queries, "_optional", lambda module, name: None)  # a build without put-away
    presenter, _ = made(PutawayPresenter, tablet_world, "zh_CN")
    presenter.scan("item", "SKU-1")
    assert presenter.suggestion is None and presenter.suggestion_text == "没有建议库位，请扫描库位"
    presenter.scan("source", "A-01")
    assert presenter.scan("target", "") == "target" and presenter.values["target"] == ""
    presenter.use_suggestion()  # nothing to take
    assert presenter.values["target"] == ""
    presenter.scan("target", "A-02"), presenter.scan("quantity", "10")
    assert presenter.save() is not None
    assert tablet_world.tablet.quantity_at(world.item, world.location2) == 10


def test_putaway_of_a_lot_tracked_item_needs_its_lot(tablet_world, floor):
    receipt, _ = made(PoReceiptPresenter, tablet_world)
    receipt.enter()
    receipt.scan("item", f"01{'0' + LOT_EAN}10L9{GS}305")
    receipt.scan("location", "A-01")
    assert receipt.save() is not None
    presenter, _ = made(PutawayPresenter, tablet_world)
    assert presenter.scan("item", "LOT-1") == "lot"  # the lot is a stop for a lot-tracked item
    presenter.scan("lot", "")
    presenter.scan("source", "A-01"), presenter.scan("target", "A-02"), presenter.scan("quantity", "5")
    assert presenter.save() is None and presenter.note.key == "mobile.lot_required"
    presenter.scan("lot", "L9")
    assert presenter.save() is not None
    tablet_world.client.sync_once()
    moved = [(m["kind"], m["lot_no"], Decimal(m["quantity"])) for m in moves_of(tablet_world, floor.lot_item)]
    assert sorted(moved) == [("receipt", "L9", 5), ("transfer_in", "L9", 5), ("transfer_out", "L9", -5)]


# -- picking and delivery --------------------------------------------------------------------


def test_picking_delivers_a_sales_order_line_and_hq_sees_it(tablet_world, floor):
    world = tablet_world.world
    receive(tablet_world.client, world, "30", item=world.item2)
    tablet_world.transport.online = False
    presenter, _ = made(PickingPresenter, tablet_world)
    presenter.enter()
    assert presenter.order_choices == ["SO-77  武汉钢构 𠀋"]
    presenter.choose_order(0)
    assert presenter.focus == "item"
    assert presenter.line_choices[1] == "2. SKU-2 垫圈\nordered 5 · delivered 0 · to deliver 5"
    assert presenter.suggestion_text == ""  # no line chosen yet
    presenter.choose_line(1)
    assert presenter.values["item"] == "SKU-2  垫圈" and presenter.focus == "quantity"
    assert presenter.suggestion_text == "No pick suggestion"
    presenter.scan("quantity", "6")
    assert presenter.note_text == "Over-delivery: only 5 left on this line (still recorded)"
    assert presenter.scan("location", "A-01") is None
    seq = presenter.save()
    assert seq is not None and presenter.line_choices[1].endswith("delivered 6 · to deliver 0")
    tablet_world.transport.online = True
    tablet_world.client.sync_once()
    line = tablet_world.server.get(f"/api/v1/sales-orders/{floor.so['id']}").json()["lines"][1]
    assert Decimal(line["delivered_quantity"]) == 6


def test_picking_shows_the_fefo_suggestion_and_enter_takes_it(tablet_world, floor, monkeypatch):
    world = tablet_world.world
    receive(tablet_world.client, world, "30", location=world.location2)
    calls = []

    def suggest_picks(conn, *, site_id, item_id, quantity, location_id=None):
        calls.append((item_id, quantity))
        return [{"location_id": world.location2, "lot_no": "L-OLD", "quantity": quantity,
                 "expires_on": date(2026, 12, 31)}]

    real = floor_queries._optional
    monkeypatch.setattr(floor_queries, "_optional", lambda module, name: suggest_picks
                        if name == "suggest_picks" else real(module, name))
    presenter, _ = made(PickingPresenter, tablet_world, "zh_CN")
    presenter.enter()
    presenter.scan("order", "SO-77")
    assert (world.item, Decimal(20)) in calls and (world.item2, Decimal(5)) in calls
    assert presenter.line_choices[0].endswith("建议：A-02 · L-OLD · 20")
    presenter.scan("item", "SKU-1")
    assert presenter.suggestion_text == "建议：A-02 批号 L-OLD 有效期 2026-12-31 数量 20"
    presenter.use_suggestion()
    assert presenter.values["lot"] == "L-OLD" and presenter.values["location"] == "A-02  A02"
    assert presenter.focus == "quantity"
    assert presenter.scan("quantity", "20") is None
    assert presenter.save() is not None
    tablet_world.client.sync_once()
    [delivery] = [m for m in moves_of(tablet_world, world.item) if Decimal(m["quantity"]) < 0]
    assert (delivery["lot_no"], Decimal(delivery["quantity"]), delivery["location_id"]) == ("L-OLD", -20,
                                                                                           world.location2)


# -- issue to a work order -------------------------------------------------------------------


def test_issue_to_a_work_order_shows_required_and_issued_and_records_the_issue(tablet_world, floor):
    world, plant = tablet_world.world, floor.plant
    receive(tablet_world.client, world, "10", item=plant.nameplate)
    tablet_world.client.sign_in("wangwu", PASSWORD)
    tablet_world.transport.online = False
    presenter, _ = made(WoIssuePresenter, tablet_world)
    presenter.enter()
    assert presenter.order_choices == ["WO-77  FG-100 减速机 𠮷"]
    assert presenter.scan("order", "WO-77") == "item"
    lines = presenter.line_choices
    assert "C-NPL 铭牌\nrequired 2 · issued 0 · to issue 2" in "\n".join(lines)
    assert lines[0].startswith("1. C-HSG 箱体 · backflush\n")  # consumed at completion, not issued by hand
    assert presenter.scan("item", "SKU-2") == "item" and presenter.note.key == "mobile.not_on_order"
    assert presenter.scan("item", "C-NPL") == "quantity"
    assert presenter.scan("quantity", "3") is None  # the location is optional: the line side
    assert presenter.note_text == "Over-issue: only 2 left to issue on this line (still recorded)"
    assert presenter.save() is not None
    assert any("issued 3 · to issue 0" in line for line in presenter.line_choices)
    tablet_world.transport.online = True
    tablet_world.client.sync_once()
    seen = tablet_world.server.get(f"/api/v1/manufacturing/work-orders/{floor.work_order['id']}").json()
    issued = {m["item_id"]: Decimal(m["issued_quantity"]) for m in seen["materials"]}
    assert issued[plant.nameplate] == 3
    [move] = [m for m in moves_of(tablet_world, plant.nameplate) if m["kind"] == "wo_issue"]
    assert move["user_name"] == "wangwu" and move["location_id"] == world.location


# -- operation reports -----------------------------------------------------------------------


def test_an_operator_starts_pauses_and_finishes_an_operation_with_quantities(tablet_world, floor):
    tablet_world.client.sign_in("wangwu", PASSWORD)
    tablet_world.transport.online = False
    presenter, _ = made(OperationReportPresenter, tablet_world, "zh_CN")
    presenter.enter()
    presenter.choose_order(0)
    assert presenter.line_choices == ["10  装配 · 未开始\n合格 0 · 报废 0", "20  试验 · 未开始\n合格 0 · 报废 0"]
    assert presenter.actions == ()  # no operation chosen
    assert presenter.scan("operation", "30") == "operation" and presenter.note_text == "工单 WO-77 没有工序 30"
    assert presenter.scan("operation", "10") == "good"
    assert presenter.actions == ("start",) and presenter.operator_text == "操作工：王五"
    seq = presenter.report("start")
    assert seq is not None and presenter.note_text == f"工序 10 已开工，第 {seq} 号操作"
    assert presenter.operation.status == "running" and presenter.actions == ("pause", "finish")
    assert presenter.scan("good", "2") == "scrap"
    assert presenter.scan("scrap", "") is None and presenter.save() is None
    assert presenter.note_text == "请点“开工”、“暂停”或“完工”"
    assert presenter.scan("good", "-1") == "good" and presenter.note.key == "mobile.bad_count"
    presenter.scan("good", "1")
    assert presenter.report("pause") is not None  # a break, with what was made so far
    assert presenter.actions == ("start", "finish") and presenter.values["good"] == ""
    assert presenter.line_choices[0] == "10  装配 · 已暂停\n合格 1 · 报废 0"
    assert presenter.report("start") is not None
    presenter.scan("good", "1")
    presenter.scan("scrap", "1")
    assert presenter.report("finish") is not None
    assert presenter.operation.status == "finished" and presenter.actions == ()
    assert presenter.line_choices[0] == "10  装配 · 已完成\n合格 2 · 报废 1"
    tablet_world.transport.online = True
    tablet_world.client.sync_once()
    seen = tablet_world.server.get(f"/api/v1/manufacturing/work-orders/{floor.work_order['id']}").json()
    assert [(r["operator"], r["event"], Decimal(r["good_quantity"]), Decimal(r["scrap_quantity"]))
            for r in seen["reports"]] == [("wangwu", "start", 0, 0), ("wangwu", "pause", 1, 0),
                                          ("wangwu", "start", 0, 0), ("wangwu", "finish", 1, 1)]
    [operation] = [o for o in seen["operations"] if o["sequence"] == 10]
    assert (operation["status"], Decimal(operation["good_quantity"])) == ("finished", 2)


def test_a_report_needs_an_operation_and_a_signed_in_operator(tablet_world, floor):
    presenter, _ = made(OperationReportPresenter, tablet_world)
    presenter.enter()
    assert presenter.report("start") is None and presenter.note.key == "mobile.missing_field"
    assert presenter.scan("operation", "10") == "operation" and presenter.note.key == "mobile.missing_field"
    presenter.scan("order", "WO-77")
    presenter.scan("operation", "10")
    tablet_world.client.sign_out()
    assert presenter.report("start") is None and presenter.note.key == "mobile.not_signed_in"
    assert tablet_world.client.status().pending == 0


# -- pure helpers ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e12"), max_value=Decimal("1e12"),
                   places=None))
def test_a_shown_quantity_reads_back_as_the_same_number_without_an_exponent(value):
    text = quantity_text(value)
    assert Decimal(text) == value and "E" not in text.upper()
    assert not ("." in text and text.endswith("0"))  # no trailing zeros after the point


@settings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(allow_nan=False, allow_infinity=False, places=4,
                            min_value=Decimal("-1000"), max_value=Decimal("1000")), min_size=1, max_size=8),
       st.sampled_from([" ", ", ", "  ", "，"]))
def test_typed_readings_are_read_back_one_per_piece(values, separator):
    from mobile.screens.qc_entry.presenter import parse_readings

    typed = separator.join(format(v, "f") for v in values)
    assert parse_readings("measured", "外径", typed) == [(v, None) for v in values]


@given(st.lists(st.sampled_from(["ok", "OK", "1", "合格", "ng", "NG", "0", "不合格"]), min_size=1, max_size=8))
def test_attribute_readings_are_ok_or_not(words):
    from mobile.screens.qc_entry.presenter import parse_readings

    expected = [(None, word.lower() in ("ok", "1", "合格")) for word in words]
    assert parse_readings("attribute", "外观", " ".join(words)) == expected


def test_a_reading_that_is_neither_a_number_nor_ok_ng_is_refused():
    from mobile.screens.qc_entry.presenter import BadReading, parse_readings

    for kind, text in (("measured", "10.0 x"), ("measured", "NaN"), ("attribute", "maybe")):
        with pytest.raises(BadReading):
            parse_readings(kind, "外径", text)


def test_quantities_are_shown_as_people_write_them():
    assert [quantity_text(Decimal(v)) for v in ("20", "20.000", "2E+1", "0.50", "1.05", "0")] == [
        "20", "20", "20", "0.5", "1.05", "0"]


def test_a_line_never_has_a_negative_remainder():
    line = DocumentLine("l", 1, "i", "S", "n", "none", Decimal(5), Decimal(7))
    assert line.remaining == 0
    order = Document("o", "PO-1", "approved", "", (line,))
    assert order.lines_of("i") == [line] and order.lines_of("x") == []


def test_without_the_inventory_suggestions_the_screens_get_none(tablet_world, monkeypatch):
    monkeypatch.setattr(floor_queries, "_optional", lambda module, wanted: None)
    tablet = tablet_world.tablet
    assert tablet.pick_suggestions(tablet_world.world.item, Decimal(1)) == []
    assert tablet.putaway_suggestion(tablet_world.world.item) is None


def test_picking_a_lot_tracked_line_suggests_the_earliest_expiry_first(tablet_world, floor):
    """Two lots of LOT-1 received against the PO; a sales order for 8: FEFO says the lot that
    expires first, and the picker who follows it delivers that lot."""
    hq, world = tablet_world.server, tablet_world.world
    receipt, _ = made(PoReceiptPresenter, tablet_world)
    receipt.enter()
    for lot, expiry, location in (("L-NEW", "280131", "A-01"), ("L-OLD", "270630", "A-02")):
        receipt.scan("item", f"01{'0' + LOT_EAN}17{expiry}10{lot}{GS}305")
        receipt.scan("location", location)
        assert receipt.save() is not None, receipt.note_text
    customer = hq.get("/api/v1/customers").json()
    customer = (customer.get("items", customer) if isinstance(customer, dict) else customer)[0]["id"]
    order = hq.post("/api/v1/sales-orders", json={"site_id": world.site, "number": "SO-78", "customer_id": customer,
                                                   "lines": [{"item_id": floor.lot_item, "quantity": "8",
                                                              "unit_price": "20"}]}).json()
    assert hq.post(f"/api/v1/sales-orders/{order['id']}/confirm").status_code == 200
    tablet_world.client.sync_once()
    presenter, _ = made(PickingPresenter, tablet_world)
    presenter.enter()
    presenter.scan("order", "SO-78")
    presenter.scan("item", "LOT-1")
    assert presenter.suggestion_text == "Pick: A-02 lot L-OLD expiry 2027-06-30 quantity 5"
    assert presenter.scan("lot", "") == "quantity" and presenter.values["lot"] == "L-OLD"  # Enter takes it
    assert presenter.scan("quantity", "5") == "location"
    assert presenter.scan("location", "") is None and presenter.values["location"] == "A-02  A02"
    assert presenter.save() is not None
    # What is left of the line now comes from the other lot.
    presenter.scan("item", "LOT-1")
    assert presenter.suggestion_text == "Pick: A-01 lot L-NEW expiry 2028-01-31 quantity 3"


# -- QC inspection ---------------------------------------------------------------------------


def incoming_plan(tablet_world, floor) -> dict:
    """An incoming inspection plan for LOT-1: 外径 9.95–10.05 mm and 外观𠮷 ok / ng, 2 pieces."""
    answer = tablet_world.server.post("/api/v1/quality/plans", json={
        "code": "IQC-LOT-1", "name": "密封胶来料检验", "item_id": floor.lot_item, "stage": "incoming",
        "sample_kind": "fixed", "sample_value": "2",
        "characteristics": [
            {"name": "外径", "kind": "measured", "nominal": "10.00", "lower": "9.95", "upper": "10.05", "unit": "mm"},
            {"name": "外观𠮷", "kind": "attribute"}]})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_an_inspector_records_an_incoming_inspection_offline_and_hq_judges_it_the_same(tablet_world, floor):
    from mobile.screens.qc_entry.presenter import QcEntryPresenter
    from tests.mobile.conftest import hq_user

    plan = incoming_plan(tablet_world, floor)
    hq_user(tablet_world.server, "qianqi", "qc_inspector", tablet_world.world.site, "钱七")
    receipt, _ = made(PoReceiptPresenter, tablet_world)
    receipt.enter()
    receipt.scan("item", f"01{'0' + LOT_EAN}17270531" + f"10L-QC{GS}3010")
    receipt.scan("location", "A-01")
    assert receipt.save() is not None
    tablet_world.client.sync_once()
    tablet_world.client.sign_in("qianqi", PASSWORD)
    home, _ = made(HomePresenter, tablet_world)
    home.enter()
    assert [tile.screen for tile in home.tiles] == ["qc_entry", "lookup", "inbox", "sync_status"]

    tablet_world.transport.online = False
    presenter, _ = made(QcEntryPresenter, tablet_world, "zh_CN")
    assert presenter.scan("item", "SKU-2") == "item" and presenter.note_text == "SKU-2 没有启用的检验方案"
    assert presenter.scan("item", f"01{'0' + LOT_EAN}10L-QC") == "reading:外径"
    assert presenter.plan_choices == ["IQC-LOT-1 v1  密封胶来料检验\n来料检验"]
    assert presenter.values["lot"] == "L-QC" and presenter.values["sample"] == "2"
    assert [presenter.check_label(name) for name in presenter.readings] == ["外径 9.95–10.05 mm", "外观𠮷 (ok / ng)"]
    assert presenter.read("外径", "10.01 abc") == "reading:外径" and presenter.note.key == "mobile.bad_reading"
    assert presenter.read("外径", "10.01 10.02") == "reading:外观𠮷"
    assert presenter.read("外观𠮷", "ok 不合格") is None  # all typed: the view saves
    seq = presenter.save()
    assert seq is not None and presenter.verdict == ("fail", "外观𠮷")
    assert presenter.note.kind == "warn" and presenter.note_text.startswith(f"已保存，第 {seq} 号操作：不合格（外观𠮷）")
    assert presenter.readings == {"外径": "", "外观𠮷": ""} and presenter.focus == "reading:外径"
    presenter.read("外径", "10.00 9.99")
    presenter.read("外观𠮷", "ok ok")
    assert presenter.save() is not None and presenter.verdict == ("pass", None)

    tablet_world.transport.online = True
    tablet_world.client.sync_once()
    results = tablet_world.server.get("/api/v1/quality/results", params={"item_id": floor.lot_item}).json()
    results = results.get("items", results) if isinstance(results, dict) else results
    [receipt_id] = [row.id for row in replica_rows(tablet_world.client, "po_receipts", "occurred_at")]
    judged = sorted((r["verdict"], r["inspector"], r["lot_no"], r["sample_size"], r["source_id"]) for r in results)
    assert judged == [("fail", "qianqi", "L-QC", 2, receipt_id), ("pass", "qianqi", "L-QC", 2, receipt_id)]
    assert [plan["id"]] == list({r["plan_id"] for r in results})
