"""The string tables, and finding items by SKU, barcode, name or pinyin initials."""

from __future__ import annotations

import time

import pytest

from mobile.i18n import ERRORS, LANGUAGES, STRINGS, Translator, placeholders
from mobile.item_index import ItemIndex, initials_key


@pytest.mark.parametrize("table", [STRINGS, ERRORS], ids=["strings", "errors"])
def test_both_languages_have_the_same_keys_and_placeholders(table):
    zh, en = table["zh_CN"], table["en"]
    assert set(zh) == set(en)
    for key in zh:
        assert placeholders(zh[key]) == placeholders(en[key]), key


def test_chinese_is_the_default_and_switching_tells_the_listener():
    t = Translator()
    heard: list[str] = []
    t.listener = heard.append
    assert t("screen.receipt") == "收货"
    assert t.toggle() == "en" and t("screen.receipt") == "Receive" and heard == ["en"]
    assert t.toggle() == "zh_CN" and heard == ["en", "zh_CN"]
    assert set(LANGUAGES) == {"zh_CN", "en"}


def test_an_error_code_reads_as_a_sentence_and_an_unknown_one_keeps_its_message():
    t = Translator("zh_CN")
    assert t.error("inventory.negative_stock", "x", {"on_hand": "2", "requested": "5"}) == "库存不足：现有 2，需要 5"
    assert t.error("purchasing.po_cancelled", "PO cancelled at HQ") == "操作失败（purchasing.po_cancelled）：PO cancelled at HQ"
    assert "?" in t.error("inventory.negative_stock")  # a missing value never raises


def test_initials_cover_every_reading_of_a_character():
    assert initials_key("螺栓") in ("ls", "ls|lq")
    assert set(initials_key("行长").split("|")) == {"xc", "xz", "hc", "hz"}
    assert initials_key("M8螺栓").startswith("m8ls")
    assert initials_key("𠮷田") in ("t", "jt|t", "jt")  # a character without pinyin adds nothing, or its reading


ITEMS = [("i1", "SKU-1", "螺栓 M8", "6900000000017", "PCS"), ("i2", "SKU-2", "垫圈", None, "PCS"),
         ("i3", "BOLT-9", "银行专用螺母", None, "PCS"), ("i4", "SKU-10", "𠮷田牌螺栓", None, "PCS")]


def test_search_ranks_exact_codes_then_prefixes_then_names_then_initials():
    index = ItemIndex(ITEMS)
    assert [i.id for i in index.search("6900000000017")] == ["i1"]
    assert [i.id for i in index.search("sku-1")] == ["i1"]  # exact SKU, not SKU-10
    assert [i.id for i in index.search("SKU")] == ["i1", "i4", "i2"]  # SKU order
    assert {i.id for i in index.search("ls")} == {"i1", "i4"}
    assert [i.id for i in index.search("yhzy")] == ["i3"]  # 银行专用: háng, not xíng
    assert [i.id for i in index.search("螺栓")] == ["i1", "i4"]
    assert [i.id for i in index.search("𠮷")] == ["i4"]
    assert index.search("") == [] and index.search("nothing-like-it") == []


def test_searching_100000_items_stays_well_under_100_ms():
    rows = [(f"id{i}", f"SKU-{i:06d}", f"螺栓{'垫圈钢板阀门'[i % 6]}{i % 97}", f"69{i:011d}", "PCS") for i in range(100_000)]
    index = ItemIndex(rows)
    for query in ("lsdq", "SKU-0999", "zzzz", "钢板"):
        started = time.perf_counter()
        index.search(query)
        assert time.perf_counter() - started < 0.1, query
