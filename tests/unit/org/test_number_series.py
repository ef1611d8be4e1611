"""The pure parts of document numbering: how numbers are written, read back and told apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from erp.org.number_series import DIGITS, format_number, parse_final, provisional_number

site_codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)
sequences = st.integers(min_value=1, max_value=10 ** (DIGITS + 2))
device_ids = st.uuids().map(str)


@given(site_codes, sequences)
def test_a_final_number_reads_back_as_its_sequence(site_code: str, sequence: int):
    number = format_number("service_ticket", site_code, sequence)
    assert parse_final("service_ticket", site_code, number) == sequence
    assert number.startswith(f"ST-{site_code}-") and len(number) >= len(f"ST-{site_code}-") + DIGITS


@given(site_codes, device_ids, st.integers(min_value=1, max_value=99_999))
def test_a_provisional_number_is_never_taken_for_a_final_one(site_code: str, device_id: str, counter: int):
    provisional = provisional_number("service_ticket", site_code, device_id, counter)
    assert parse_final("service_ticket", site_code, provisional) is None


@given(site_codes, st.tuples(device_ids, device_ids).filter(lambda pair: pair[0][-8:] != pair[1][-8:]),
       st.integers(min_value=1, max_value=99_999), st.integers(min_value=1, max_value=99_999))
def test_two_devices_never_write_the_same_provisional_number(site_code, devices, first, second):
    assert (provisional_number("service_ticket", site_code, devices[0], first)
            != provisional_number("service_ticket", site_code, devices[1], second))


@given(site_codes, sequences)
def test_a_number_of_another_site_is_not_read_as_this_sites(site_code: str, sequence: int):
    number = format_number("service_ticket", site_code + "X", sequence)
    assert parse_final("service_ticket", site_code, number) is None
