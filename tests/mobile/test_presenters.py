"""Presenters without a window: each screen's state and what it asks the device to do, on a real
enrolled tablet (``EdgeClient`` on a local replica) against an HQ app in-process. "Offline" is
the test transport's switch; everything but sign-in and sync must work without it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from edge_client.client import EdgeClient
from erp.inventory.item import UpdateItem
from erp.inventory.stock_move import Issue, Receive
from mobile.gs1 import GS, check_digit
from mobile.i18n import Translator
from mobile.screens.count.presenter import CountPresenter
from mobile.screens.home.presenter import HomePresenter
from mobile.screens.inbox.presenter import InboxPresenter
from mobile.screens.lookup.presenter import LookupPresenter
from mobile.screens.receipt.presenter import ReceiptPresenter, compose_reference
from mobile.screens.sign_in.presenter import SignInPresenter
from mobile.screens.sync_status.presenter import SyncStatusPresenter
from mobile.screens.transfer.presenter import TransferPresenter
from mobile.tablet import Tablet
from sync.context import Edit
from sync.ids import new_id
from tests.mobile.conftest import LABELLED_EAN, PASSWORD
from tests.support import FlakyTransport, enrollment_code, now


class Recorder:
    """Stands in for the app's navigation and the view's listener."""

    def __init__(self, presenter):
        self.screens: list[str] = []
        self.changes = 0
        presenter.navigate = self.screens.append
        presenter.bind(self.changed)

    def changed(self):
        self.changes += 1


def made(presenter_type, tablet_world, language="en"):
    presenter = presenter_type(tablet_world.tablet, Translator(language))
    return presenter, Recorder(presenter)


def moves(tablet_world):
    return tablet_world.server.get("/api/v1/movements", params={"item_id": tablet_world.world.item}).json()["items"]


def gtin14(ean13: str) -> str:
    return "0" + ean13


# -- sign-in and home ------------------------------------------------------------------------


def test_sign_in_online_then_offline_goes_home_and_says_how_it_was_checked(tablet_world):
    presenter, seen = made(SignInPresenter, tablet_world)
    tablet_world.client.sign_out()
    user = presenter.sign_in("zhangsan", PASSWORD)
    assert user is not None and not user.offline and seen.screens == ["home"]
    assert presenter.note_text == "Signed in: 张三 (checked by headquarters)"
    tablet_world.client.sign_out()
    tablet_world.transport.online = False
    assert presenter.sign_in("zhangsan", PASSWORD).offline
    assert presenter.note_text.startswith("Signed in offline: 张三 (checked by this tablet, until ")
    assert presenter.known_users() == ["zhangsan"]


def test_a_refused_sign_in_says_why_in_the_clerks_language(tablet_world):
    presenter, seen = made(SignInPresenter, tablet_world, "zh_CN")
    tablet_world.transport.online = False
    assert presenter.sign_in("wangwu", PASSWORD) is None  # never signed in here with the network
    assert presenter.note.key == "edge.sign_in_needs_network" and "第一次" in presenter.note_text
    assert presenter.sign_in("zhangsan", "错的") is None
    assert presenter.note_text == "用户名或密码错误（还可尝试 4 次）"
    assert presenter.sign_in("", "x") is None and presenter.note.key == "mobile.missing_field"
    assert seen.screens == [] and tablet_world.tablet.user().username == "zhangsan"


def test_home_shows_what_the_role_allows(tablet_world):
    presenter, seen = made(HomePresenter, tablet_world)
    presenter.enter()
    assert [tile.screen for tile in presenter.tiles] == ["receipt", "po_receipt", "putaway", "transfer", "picking",
                                                           "count", "lookup", "inbox", "sync_status"]
    assert presenter.title == "Hello, 张三" and presenter.summary == "Online · 0 to sync · 0 in the inbox"
    assert presenter.roles == "Roles: Warehouse clerk"
    tablet_world.client.sign_in("wangwu", PASSWORD)  # shop-floor operator: work orders and view only
    presenter.enter()
    assert [tile.screen for tile in presenter.tiles] == ["wo_issue", "operation_report", "lookup", "inbox",
                                                           "sync_status"]
    with pytest.raises(ValueError):
        presenter.open("receipt")
    presenter.sign_out()
    assert seen.screens == ["sign_in"] and tablet_world.tablet.user() is None
    presenter.enter()  # nobody signed in: home sends the tablet to sign-in
    assert seen.screens == ["sign_in", "sign_in"]


# -- receipt ---------------------------------------------------------------------------------


def test_a_receipt_by_scans_offline_moves_the_focus_and_is_queued(tablet_world):
    tablet_world.transport.online = False
    presenter, seen = made(ReceiptPresenter, tablet_world)
    assert presenter.focus == "item"
    assert presenter.scan("item", "6900000000017") == "location"
    assert presenter.values["item"] == "SKU-1  螺栓 𠮷"
    assert presenter.scan("location", "A-01") == "quantity"
    assert presenter.scan("quantity", "12") is None  # complete: the view saves
    seq = presenter.save()
    assert seq is not None and presenter.note_text == f"Saved as operation #{seq}, waiting to sync"
    assert presenter.values["location"].startswith("A-01") and presenter.values["item"] == ""
    assert presenter.focus == "item"
    assert tablet_world.tablet.quantity_at(tablet_world.world.item, tablet_world.world.location) == 12
    assert tablet_world.client.status().pending == 1
    tablet_world.transport.online = True
    tablet_world.client.sync_once()
    assert [(Decimal(m["quantity"]), m["user_name"]) for m in moves(tablet_world)] == [(12, "zhangsan")]


def test_a_gs1_label_fills_item_lot_expiry_and_quantity_into_the_reference(tablet_world):
    presenter, _ = made(ReceiptPresenter, tablet_world)
    presenter.scan("reference", "PO-778")
    label = f"]C101{gtin14(LABELLED_EAN)}17270531" + f"10L2405-A{GS}3006"
    assert presenter.scan("item", label) == "location"
    assert presenter.values["item"] == "NUT-8  六角螺母 M8"
    assert (presenter.values["lot"], presenter.values["expiry"], presenter.values["quantity"]) == (
        "L2405-A", "2027-05-31", "6")
    assert presenter.note_text == "GS1 label read: lot L2405-A, expiry 2027-05-31"
    assert presenter.scan("location", "A-02") is None
    assert presenter.save() is not None
    tablet_world.client.sync_once()
    [move] = [m for m in tablet_world.server.get("/api/v1/movements").json()["items"]]
    assert move["reference"] == "PO-778; lot=L2405-A; expiry=2027-05-31" and Decimal(move["quantity"]) == 6


def test_bad_scans_keep_the_focus_and_say_why(tablet_world):
    presenter, _ = made(ReceiptPresenter, tablet_world, "zh_CN")
    assert presenter.scan("item", "NO-SUCH") == "item"
    assert presenter.note_text == "本机没有找到：NO-SUCH"
    wrong = "01" + gtin14(LABELLED_EAN)[:-1] + str((check_digit(gtin14(LABELLED_EAN)[:-1]) + 1) % 10)
    assert presenter.scan("item", wrong) == "item" and presenter.note.key == "gs1.bad_check_digit"
    presenter.scan("item", "SKU-2")
    assert presenter.scan("location", "B-01") == "location"  # the other site's location
    assert presenter.scan("quantity", "-3") == "quantity" and presenter.note.key == "mobile.bad_quantity"
    assert presenter.save() is None and presenter.note_text == "请填写：库位"
    assert presenter.scan("expiry", "2027-02-30") == "expiry" and presenter.note.key == "mobile.bad_date"
    assert tablet_world.client.status().pending == 0


def test_compose_reference_keeps_what_the_clerk_typed_first():
    assert compose_reference("", "", "") is None
    assert compose_reference(" PO-1 ", "L1", "") == "PO-1; lot=L1"


def test_a_role_that_may_not_receive_is_refused_on_the_tablet(tablet_world):
    tablet_world.client.sign_in("wangwu", PASSWORD)
    presenter, _ = made(ReceiptPresenter, tablet_world)
    presenter.scan("item", "SKU-1")
    presenter.scan("location", "A-01")
    presenter.scan("quantity", "1")
    assert presenter.save() is None and presenter.note.key == "auth.user_forbidden"
    assert presenter.note_text == "Your role does not allow this"


# -- transfer and count ----------------------------------------------------------------------


def test_a_transfer_between_two_locations(tablet_world):
    tablet_world.tablet.run("inventory.receive", Receive(
        new_id(), tablet_world.world.item, tablet_world.world.location, Decimal(10), now()))
    presenter, _ = made(TransferPresenter, tablet_world)
    assert presenter.scan("item", "SKU-1") == "source"
    assert presenter.scan("source", "A-01") == "target"
    assert presenter.scan("target", "A-01") == "quantity"
    assert presenter.scan("quantity", "4") is None
    assert presenter.save() is None and presenter.note.key == "inventory.same_location"
    presenter.scan("target", "A-02")
    assert presenter.save() is not None
    tablet = tablet_world.tablet
    assert tablet.quantity_at(tablet_world.world.item, tablet_world.world.location) == 6
    assert tablet.quantity_at(tablet_world.world.item, tablet_world.world.location2) == 4


def test_a_count_shows_what_the_tablet_holds_then_records_the_shelf(tablet_world):
    presenter, _ = made(CountPresenter, tablet_world)
    assert presenter.scan("location", "A-01") == "item"
    assert presenter.scan("item", "SKU-2") == "counted"
    assert presenter.system_text == "On hand here: 0"
    assert presenter.scan("counted", "0") is None  # zero is a count
    assert presenter.save() is not None and presenter.focus == "item"
    assert presenter.values["location"].startswith("A-01")


# -- lookup ----------------------------------------------------------------------------------


def test_lookup_by_pinyin_initials_and_stock_by_location(tablet_world):
    tablet = tablet_world.tablet
    tablet.build_index()
    presenter, _ = made(LookupPresenter, tablet_world, "zh_CN")
    receipt, _ = made(ReceiptPresenter, tablet_world)
    for location in ("A-01", "A-02"):
        receipt.scan("item", "SKU-1"), receipt.scan("location", location), receipt.scan("quantity", "3")
        receipt.save()
    presenter.search("ls")  # 螺栓
    assert [item.sku for item in presenter.results] == ["SKU-1"]
    assert presenter.selected is not None  # a single match is opened at once
    assert presenter.stock_lines == ["A-01 A01：3", "A-02 A02：3"]
    presenter.search("dq")  # 垫圈
    assert [item.sku for item in presenter.results] == ["SKU-2"] and presenter.stock_lines == ["本站点无库存"]
    presenter.search("SKU")
    assert len(presenter.results) == 2 and presenter.selected is None and presenter.note_text == "找到 2 个物料"


def test_lookup_before_the_index_is_ready_answers_exact_codes(tablet_world):
    presenter, _ = made(LookupPresenter, tablet_world)
    assert presenter.indexing
    assert [item.sku for item in presenter.search("6900000000017")] == ["SKU-1"]
    assert presenter.search("ls") == [] and presenter.note_text == "Building the pinyin index…"
    tablet_world.tablet.build_index()
    presenter.index_ready()
    assert [item.sku for item in presenter.results] == ["SKU-1"]


# -- sync status and the inbox ---------------------------------------------------------------


def test_sync_status_offline_then_online(tablet_world):
    presenter, _ = made(SyncStatusPresenter, tablet_world)
    receipt, _ = made(ReceiptPresenter, tablet_world)
    receipt.scan("item", "SKU-1"), receipt.scan("location", "A-01"), receipt.scan("quantity", "1")
    receipt.save()
    tablet_world.transport.online = False
    assert presenter.sync_now() is False
    assert presenter.lines[0] == "Offline (retrying)" and presenter.lines[1] == "Waiting to upload: 1"
    assert presenter.note.kind == "warn" and not presenter.online
    tablet_world.transport.online = True
    assert presenter.sync_now() is True
    assert presenter.lines[:2] == ["Online", "Waiting to upload: 0"] and presenter.online
    assert presenter.note_text == "Synced: 1 sent, 0 rejected, 0 waiting"
    assert presenter.lines[2].startswith("Last sync: ")


def test_sync_status_shows_the_first_download_progress(tablet_world):
    world, server = tablet_world.world, tablet_world.server
    fresh = EdgeClient.enroll(tablet_world.home.parent / "fresh", server_url="http://testserver.local",
                              site_id=world.site, device_name="新平板",
                              enrollment_code=enrollment_code(server, world.site, "warehouse_clerk"),
                              transport=FlakyTransport(client=server))
    try:
        presenter = SyncStatusPresenter(Tablet(fresh), Translator("en"))
        presenter.enter()
        assert presenter.lines[0] == "Not synced yet" and presenter.lines[2] == "Never synced"
        assert presenter.sync_now()
        done, total = presenter.progress
        assert done == total > 0 and presenter.lines[-1] == f"Download: {done} / {total} rows"
    finally:
        fresh.replica.close()


def test_a_rejection_in_the_inbox_says_why_and_is_fixed_and_resubmitted(tablet_world):
    """Of the 5 on hand, one tablet issues 4 and another 2 + 2, in a warehouse that rejects
    negative stock: the second tablet's issues are rejected at HQ. Its clerk reads why, lowers
    one to 1 and resubmits it, and discards the other."""
    world, server = tablet_world.world, tablet_world.server
    first = tablet_world.client
    second = EdgeClient.enroll(tablet_world.home.parent / "second", server_url="http://testserver.local",
                               site_id=world.site, device_name="平板-2",
                               enrollment_code=enrollment_code(server, world.site, "branch_manager"),
                               transport=FlakyTransport(client=server))
    try:
        second.sync_once()
        second.sign_in("zhangsan", PASSWORD)
        first.run("inventory.receive", Receive(new_id(), world.item, world.location, Decimal(5), now()))
        first.sync_once()
        second.sync_once()
        first.run("inventory.issue", Issue(new_id(), world.item, world.location, Decimal(4), now()))
        second.run("inventory.issue", Issue(new_id(), world.item, world.location, Decimal(2), now(), "WO-7"))
        second.run("inventory.issue", Issue(new_id(), world.item, world.location, Decimal(2), now(), "WO-8"))
        first.sync_once()
        second.sync_once()
        presenter = InboxPresenter(Tablet(second), Translator("zh_CN"))
        presenter.enter()
        assert [(e.kind, e.code) for e in presenter.entries] == [("rejection", "inventory.negative_stock")] * 2
        assert presenter.summary(presenter.entries[0]) == ("[被拒绝] inventory.issue #1\n"
                                                           "库存不足：现有 1，需要 2")
        presenter.select(0)
        assert presenter.edits == {"quantity": "2", "reference": "WO-7"}
        presenter.edit("quantity", "1")
        seq = presenter.resubmit()
        assert seq is not None and presenter.note_text == f"已重新提交，第 {seq} 号操作"
        assert len(presenter.entries) == 1
        presenter.select(0)
        assert presenter.discard() and presenter.entries == [] and presenter.note_text == "已放弃"
        second.sync_once()
        assert second.inbox() == []
        issued = sorted(Decimal(m["quantity"]) for m in moves(tablet_world) if m["kind"] == "issue")
        assert issued == [-4, -1]
    finally:
        second.replica.close()


def test_a_field_conflict_is_shown_with_both_values_and_acknowledged(tablet_world):
    world, server = tablet_world.world, tablet_world.server
    tablet_world.client.sign_in("manager", PASSWORD)  # a branch manager may edit items
    versions = server.get(f"/api/v1/items/{world.item}").json()["field_versions"]
    tablet_world.tablet.run("inventory.update_item", UpdateItem(item_id=world.item,
                                                                name=Edit("螺栓 M8 𠮷", versions["name"])))
    server.patch(f"/api/v1/items/{world.item}", json={"name": {"value": "六角螺栓", "base_version": versions["name"]}})
    tablet_world.client.sync_once()
    presenter, _ = made(InboxPresenter, tablet_world)
    presenter.enter()
    [entry] = presenter.entries
    presenter.select(0)
    assert entry.kind == "conflict" and presenter.edits == {}
    assert presenter.conflict_lines == ["This tablet's value: 螺栓 M8 𠮷", "Headquarters' value: 六角螺栓"]
    assert presenter.resubmit() is None and presenter.note.key == "mobile.missing_field"
    presenter.select(0)
    assert presenter.acknowledge() and presenter.entries == []


def test_presenters_and_their_helpers_import_no_kivy():
    import subprocess
    import sys

    code = ("import sys, importlib, pathlib\n"
            "names = ['mobile.tablet', 'mobile.presenter', 'mobile.i18n', 'mobile.gs1', 'mobile.item_index',\n"
            "         'mobile.fonts', 'mobile.cli', 'mobile.documents'] + [f'mobile.screens.{p.parent.name}.presenter'\n"
            "         for p in pathlib.Path('mobile/screens').glob('*/presenter.py')]\n"
            "for name in names: importlib.import_module(name)\n"
            "loaded = sorted(m for m in sys.modules if m == 'kivy' or m.startswith('kivy.'))\n"
            "assert not loaded, loaded\n"
            "print(len(names))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=__import__("pathlib").Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == 22  # 8 modules and 14 screen presenters


def test_the_inbox_offers_a_lot_to_correct_only_when_the_operation_named_one():
    from mobile.screens.inbox.presenter import editable

    untracked = {"move_id": "m", "item_id": "i", "quantity": "2", "occurred_at": "t", "lot_no": None,
                 "serial_no": None, "reference": None}
    assert editable(untracked) == {"quantity": "2", "reference": ""}
    assert editable({**untracked, "lot_no": "L2405-A"}) == {"quantity": "2", "reference": "", "lot_no": "L2405-A"}
