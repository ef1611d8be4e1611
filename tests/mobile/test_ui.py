"""The real screens, headless (SDL2's offscreen driver, Mesa through EGL): buttons are pressed,
scans are typed into the focused field as a keyboard-mode scanner types them, and each screen
is saved as a picture (under docs/mobile/, the pictures of docs/mobile.md, when run with
``JCERP_SCREENSHOTS=docs/mobile``).

The tablet font (Noto Sans CJK, from scripts/ensure-tablet-deps) must render the 4-byte names:
without it these tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import pytest

from tests.mobile.ui_driver import Ui  # noqa: I001  (prepares Kivy before anything imports it)
from tests.mobile.conftest import LABELLED_EAN, PASSWORD


@pytest.fixture
def ui(tablet_world):
    driver = Ui(tablet_world.tablet)
    yield driver
    driver.close()


def ink(text: str) -> bytes:
    from kivy.core.text import Label as CoreLabel

    label = CoreLabel(text=text, font_size=64)
    label.refresh()
    return bytes(label.texture.pixels)


def test_4_byte_characters_render_as_glyphs_not_boxes(ui):
    tofu = ink("\U000F0000")  # a private-use character no font draws: the missing-glyph box
    for rare in ("𠮷", "𠀋"):
        drawn = ink(rare)
        assert drawn != tofu, f"{rare} renders as a box"
        assert any(drawn[3::4]), f"{rare} renders as nothing"
    assert ink("𠮷") != ink("𠀋")


def test_sign_in_by_typing_then_home_shows_the_roles_tiles(ui, tablet_world):
    tablet_world.client.sign_out()
    ui.app.go("sign_in")
    ui.frames(2)
    assert ui.screen.name == "sign_in" and ui.focus_on(ui.screen.ids.field_username)
    ui.scan("zhangsan")  # Enter in the user name moves to the password
    assert ui.focus_on(ui.screen.ids.field_password)
    ui.window.dispatch("on_textinput", "错")
    ui.frames(1)
    ui.shot("sign-in")
    ui.screen.ids.field_password.text = ""
    ui.window.dispatch("on_textinput", PASSWORD)
    ui.press(ui.screen.ids.sign_in_button)
    ui.until(lambda: ui.screen.name == "home")
    assert [t.screen for t in reversed(ui.app.views["home"].ids.tiles.children)] == [
        "receipt", "po_receipt", "putaway", "transfer", "picking", "count", "lookup", "inbox", "sync_status"]
    assert ui.screen.ids.header.title == "你好，张三"
    ui.shot("home")


def test_the_language_switches_on_every_label(ui):
    bar = ui.app.status_bar
    [switch] = [w for w in bar.children if getattr(w, "text", "") == "English"]
    ui.press(switch)
    assert ui.app.lang == "en" and ui.tile("receipt").text == "Receive"
    assert ui.screen.ids.header.title == "Hello, 张三"
    ui.shot("home-en")
    ui.press(switch)
    assert ui.tile("receipt").text == "收货"


def test_a_receipt_by_scans_offline(ui, tablet_world):
    tablet_world.transport.online = False
    ui.press(ui.tile("receipt"))
    view = ui.screen
    assert view.name == "receipt" and ui.focus_on(view.ids.field_item)
    ui.scan(f"]C101{'0' + LABELLED_EAN}17270531" + "10L2405-A\x1d3024")  # GS1-128: item, expiry, lot, count
    assert ui.focus_on(view.ids.field_location)
    assert view.ids.field_lot.text == "L2405-A" and view.ids.field_expiry.text == "2027-05-31"
    assert view.ids.field_quantity.text == "24"
    view.ids.field_reference.focus = True  # a tap on the reference field
    ui.scan("PO-2026-0778")
    assert ui.focus_on(view.ids.field_location)  # back to what is still missing
    ui.shot("receipt")
    ui.scan("A-01")  # the last required field: Enter saves
    assert view.ids.note.text.startswith("已保存，第 ") and view.ids.field_item.text == ""
    assert ui.focus_on(view.ids.field_item)
    assert tablet_world.client.status().pending == 1
    ui.scan("6900000000017")
    ui.scan("A-02")  # the location field was kept: this replaces it
    ui.scan("5")
    assert tablet_world.client.status().pending == 2


def test_transfer_and_count_by_scans(ui, tablet_world):
    ui.press(ui.tile("receipt"))
    for scan in ("SKU-1", "A-01", "10"):
        ui.scan(scan)
    ui.back()
    assert ui.screen.name == "home"
    ui.press(ui.tile("transfer"))
    for scan in ("SKU-1", "A-01", "A-02"):
        ui.scan(scan)
    ui.shot("transfer")
    ui.scan("4")
    assert ui.screen.ids.note.text.startswith("已保存")
    ui.app.go("count")
    ui.frames(2)
    ui.scan("A-02")
    ui.scan("SKU-1")
    assert ui.screen.ids.system.text == "系统库存：4"
    ui.shot("count")
    ui.scan("3")
    assert tablet_world.tablet.quantity_at(tablet_world.world.item, tablet_world.world.location2) == 3


def test_lookup_by_pinyin_initials(ui, tablet_world):
    tablet_world.tablet.build_index()
    ui.app.go("receipt")
    ui.frames(1)
    for scan in ("SKU-1", "A-01", "7"):
        ui.scan(scan)
    ui.app.go("lookup")
    ui.frames(2)
    ui.window.dispatch("on_textinput", "ls")  # 螺栓 luó shuān; 六角螺母 is ljlm
    ui.frames(2)
    names = [b.text for b in ui.screen.ids.results.children]
    assert names == ["SKU-1  螺栓 𠮷"] and ui.screen.ids.stock.text == "A-01 A01：7"
    ui.shot("lookup")


def test_sync_status_offline_then_sync_now(ui, tablet_world):
    ui.app.go("receipt")
    ui.frames(1)
    for scan in ("SKU-2", "A-01", "3"):
        ui.scan(scan)
    tablet_world.transport.online = False
    ui.back()
    ui.press(ui.tile("sync_status"))
    view = ui.screen
    ui.press(view.ids.sync_button)
    ui.until(lambda: not ui.app.presenters["sync_status"].busy and view.ids.note.text)
    ui.frames(2)
    assert view.ids.state.text == "离线（稍后重试）" and "待上传操作：1" in view.ids.lines.text
    ui.shot("sync-offline")
    tablet_world.transport.online = True
    ui.press(view.ids.sync_button)
    ui.until(lambda: not ui.app.presenters["sync_status"].busy and view.ids.state.text == "在线")
    ui.frames(2)
    assert "待上传操作：0" in view.ids.lines.text
    ui.shot("sync-online")


def test_the_inbox_shows_a_conflict_and_acknowledges_it(ui, tablet_world):
    from erp.inventory.item import UpdateItem
    from sync.context import Edit

    world, server = tablet_world.world, tablet_world.server
    tablet_world.client.sign_in("manager", PASSWORD)
    versions = server.get(f"/api/v1/items/{world.item}").json()["field_versions"]
    tablet_world.tablet.run("inventory.update_item", UpdateItem(item_id=world.item,
                                                                name=Edit("螺栓 M8 𠮷", versions["name"])))
    server.patch(f"/api/v1/items/{world.item}", json={"name": {"value": "六角螺栓", "base_version": versions["name"]}})
    tablet_world.client.sync_once()
    ui.app.go("inbox")
    ui.frames(2)
    view = ui.screen
    [entry] = view.ids.entries.children
    ui.press(entry)
    assert "本机的值：螺栓 M8 𠮷" in view.ids.reason.text and "总部的值：六角螺栓" in view.ids.reason.text
    ui.shot("inbox")
    ui.press(view.ids.acknowledge_button)
    assert view.ids.entries.children == [] and view.ids.note.text == "已确认"


def test_a_name_with_4_byte_characters_is_shown(ui, tablet_world):
    tablet_world.client.sign_in("yoshida", PASSWORD)
    ui.app.go("home")
    ui.frames(2)
    assert ui.screen.ids.header.title == "你好，𠮷田 𠀋"
    ui.shot("home-4-byte-name")
