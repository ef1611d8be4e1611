"""GS1-128 element strings as scanners type them: examples from labels, and properties."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobile import gs1
from mobile.gs1 import GS, GS1Error, check_digit, encode, gtin_candidates, parse, parse_date


def gtin(body: str) -> str:
    return body + str(check_digit(body))


def test_a_scanned_label_with_fnc1_gives_item_lot_and_expiry():
    data = parse(f"]C101069000000000141727053110L2405-A{GS}3012")
    assert (data.gtin, data.lot, data.expiry, data.quantity) == ("06900000000014", "L2405-A", date(2027, 5, 31), 12)


def test_the_printed_form_with_brackets_reads_the_same():
    assert parse("(01)06900000000014(17)270531(10)L2405-A(30)12") == parse(
        f"01069000000000141727053110L2405-A{GS}3012")


def test_day_00_means_the_last_day_of_the_month():
    assert parse_date("280200") == date(2028, 2, 29)
    assert parse_date("270200") == date(2027, 2, 28)


def test_the_century_follows_the_gs1_rule():
    today = date(2026, 6, 1)
    assert parse_date("760101", today).year == 2076  # 50 ahead
    assert parse_date("770101", today).year == 1977  # 51 ahead is the past
    assert parse_date("990101", today).year == 1999


@pytest.mark.parametrize("text, code", [
    ("]C10106900000000015", "gs1.bad_check_digit"),
    ("010690000000001417270", "gs1.bad_length"),
    ("01069000000000141713023110L1", "gs1.bad_date"),
    ("9906900000000014", "gs1.unknown_ai"),
    ("(01)06900000000014(01)06900000000014", "gs1.repeated_ai"),
    ("(01)0690000000001x", "gs1.not_numeric"),
    ("(01)06900000000014)x", "gs1.malformed"),
    ("]C1", "gs1.empty"),
])
def test_bad_labels_are_refused_with_a_stable_code(text, code):
    with pytest.raises(GS1Error) as refused:
        parse(text)
    assert refused.value.code == code


def test_a_gtin_matches_the_shorter_codes_it_pads():
    assert gtin_candidates("06900000000014") == ["06900000000014", "6900000000014"]
    assert gtin_candidates("00012345678905") == ["00012345678905", "0012345678905", "012345678905"]
    assert gtin_candidates("00000096385074") == ["00000096385074", "0000096385074", "000096385074", "96385074"]


def test_plain_barcodes_and_skus_are_not_taken_for_gs1():
    assert not gs1.looks_like_gs1("6900000000017")
    assert not gs1.looks_like_gs1("SKU-1")
    assert gs1.looks_like_gs1("]C10106900000000014")
    assert gs1.looks_like_gs1("(01)06900000000014")
    assert gs1.looks_like_gs1("0106900000000014" + "10ABC")


# -- properties ------------------------------------------------------------------------------

digits = st.text(alphabet=string.digits, min_size=1, max_size=1)
gtins = st.text(alphabet=string.digits, min_size=13, max_size=13).map(gtin)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2049, 12, 31)).map(lambda d: d.strftime("%y%m%d"))
# AI encodable set 82 without brackets (the bracketed form cannot carry them) and without GS.
text82 = st.text(alphabet=[c for c in string.ascii_letters + string.digits + "!\"%&'*+,-./:;<=>?_"], min_size=1,
                 max_size=20)
counts = st.integers(min_value=1, max_value=99_999_999).map(str)
measures = st.tuples(st.integers(0, 5), st.integers(0, 999_999)).map(lambda p: (f"310{p[0]}", f"{p[1]:06d}"))


@st.composite
def labels(draw) -> dict[str, str]:
    fields: dict[str, str] = {"01": draw(gtins)}
    if draw(st.booleans()):
        fields["17"] = draw(dates)
    if draw(st.booleans()):
        fields["10"] = draw(text82)
    if draw(st.booleans()):
        fields["21"] = draw(text82)
    if draw(st.booleans()):
        fields["30"] = draw(counts)
    if draw(st.booleans()):
        ai, value = draw(measures)
        fields[ai] = value
    order = draw(st.permutations(list(fields)))
    return {ai: fields[ai] for ai in order}


@settings(max_examples=300)
@given(labels(), st.sampled_from(["]C1", "]d2", ""]))
def test_parse_gives_back_what_was_encoded(fields, prefix):
    assert parse(encode(fields, prefix=prefix)).fields == fields
    assert parse(encode(fields, bracketed=True)).fields == fields


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_with_a_code(text):
    try:
        data = parse(text)
    except GS1Error as refused:
        assert refused.code.startswith("gs1.")
    else:
        assert data.fields


@given(st.text(alphabet=string.digits, min_size=7, max_size=13))
def test_a_changed_digit_breaks_the_check_digit(body):
    code = gtin(body)
    assert gs1.valid_gtin(code) or len(code) not in (8, 12, 13, 14)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert not gs1.valid_gtin(wrong)
