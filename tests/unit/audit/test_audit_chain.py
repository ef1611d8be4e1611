"""The audit log's hash chain (``server.audit.chain``): a linked chain verifies, and any change
to it is found at the right seq: a tampered field, a deleted row, rows in another order, the
end cut off, rows added after the head, one row re-hashed to match its change."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from server.audit.chain import GENESIS, Entry, canonical_json, check, entry_bytes, entry_hash, link, verify
from sync.types import utc_text

TEXT = st.text(max_size=20)  # any code point but surrogates: 4-byte characters, U+0000, controls
MAYBE_TEXT = st.none() | TEXT
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))

UNLINKED = st.builds(
    Entry, seq=st.just(0), at=MOMENTS, action=TEXT, actor=MAYBE_TEXT, device_id=MAYBE_TEXT, site_id=MAYBE_TEXT,
    source=MAYBE_TEXT, subject=MAYBE_TEXT,
    detail_json=st.dictionaries(TEXT, JSON_VALUES, max_size=4).map(canonical_json),
)
CHAINS = st.lists(UNLINKED, min_size=1, max_size=12).map(lambda entries: link(0, GENESIS, entries))
TEXT_FIELDS = ("action", "actor", "device_id", "site_id", "source", "subject", "detail_json")
HEX = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def head_of(chain: list[Entry]) -> tuple[int, str]:
    return (chain[-1].seq, chain[-1].hash) if chain else (0, GENESIS)


@given(CHAINS)
def test_a_linked_chain_verifies_against_its_head(chain: list[Entry]) -> None:
    result = check(chain, head=head_of(chain))
    assert result.ok and result.first_broken_seq is None
    assert result.entries_checked == len(chain)
    assert (result.last_seq, result.last_hash) == head_of(chain)
    assert [entry.seq for entry in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == GENESIS
    for before, after in zip(chain, chain[1:]):
        assert after.prev_hash == before.hash == entry_hash(before.prev_hash, before)


def test_an_empty_log_verifies() -> None:
    assert check([], head=(0, GENESIS)).ok
    assert verify([]) is None


@given(CHAINS, st.data())
def test_any_tampered_field_is_found_at_its_seq(chain: list[Entry], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 1))
    entry = chain[index]
    name = data.draw(st.sampled_from((*TEXT_FIELDS, "at", "seq", "prev_hash", "hash")))
    if name == "at":
        value = entry.at + data.draw(st.sampled_from((timedelta(microseconds=1), timedelta(days=-1))))
    elif name == "seq":
        value = data.draw(st.integers(-5, 50).filter(lambda seq: seq != entry.seq))
    elif name in ("prev_hash", "hash"):
        value = data.draw(HEX.filter(lambda text: text != getattr(entry, name)))
    else:
        value = data.draw(MAYBE_TEXT if name != "detail_json" and name != "action" else TEXT)
        assume(value != getattr(entry, name))
    tampered = [*chain[:index], replace(entry, **{name: value}), *chain[index + 1:]]
    assert verify(tampered, head=head_of(chain)) == entry.seq
    assert verify(tampered) == entry.seq  # found by the rows alone, without the head


@given(CHAINS, st.data())
def test_a_row_rehashed_to_match_its_change_is_found_at_the_next_link(chain: list[Entry], data: st.DataObject) -> None:
    """Whoever changes a row and recomputes its hash still breaks the link to the next row
    (or, for the last row, the head)."""
    index = data.draw(st.integers(0, len(chain) - 1))
    entry = chain[index]
    changed = replace(entry, detail_json=canonical_json({"forged": data.draw(TEXT)}))
    assume(changed.detail_json != entry.detail_json)
    changed = replace(changed, hash=entry_hash(changed.prev_hash, changed))
    tampered = [*chain[:index], changed, *chain[index + 1:]]
    broken = verify(tampered, head=head_of(chain))
    assert broken is not None and entry.seq <= broken <= entry.seq + 1


@given(CHAINS, st.data())
def test_a_deleted_row_is_found_at_its_seq(chain: list[Entry], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 1))
    remaining = chain[:index] + chain[index + 1:]
    assert verify(remaining, head=head_of(chain)) == chain[index].seq


@given(CHAINS, st.data())
def test_rows_cut_off_the_end_are_found_by_the_head(chain: list[Entry], data: st.DataObject) -> None:
    keep = data.draw(st.integers(0, len(chain) - 1))
    assert verify(chain[:keep], head=head_of(chain)) == keep + 1
    assert verify(chain[:keep]) is None  # the rows alone cannot tell: that is what the head is for


@given(CHAINS, st.lists(UNLINKED, min_size=1, max_size=3))
def test_rows_chained_on_after_the_head_are_found(chain: list[Entry], extra: list[Entry]) -> None:
    forged = chain + link(chain[-1].seq, chain[-1].hash, extra)
    assert verify(forged) is None  # a well-formed chain on its own
    assert verify(forged, head=head_of(chain)) == chain[-1].seq + 1


@given(CHAINS.filter(lambda chain: len(chain) >= 2), st.data())
def test_reordered_rows_are_found_at_the_first_moved_one(chain: list[Entry], data: st.DataObject) -> None:
    i, j = sorted(data.draw(st.lists(st.integers(0, len(chain) - 1), min_size=2, max_size=2, unique=True)))
    moved = list(chain)
    moved[i], moved[j] = moved[j], moved[i]
    assert verify(moved, head=head_of(chain)) == chain[i].seq
    # The same swap with the seq numbers left in place (rows renumbered to hide the move).
    renumbered = [replace(row, seq=position + 1) for position, row in enumerate(moved)]
    assert verify(renumbered, head=head_of(chain)) == chain[i].seq


@given(st.dictionaries(TEXT, JSON_VALUES, max_size=6))
def test_canonical_json_is_sorted_compact_and_keeps_non_ascii(value: dict) -> None:
    text = canonical_json(value)
    assert json.loads(text) == value
    assert text == canonical_json(dict(reversed(list(value.items()))))
    assert text == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@given(CHAINS)
def test_entry_bytes_are_the_canonical_json_of_the_fields(chain: list[Entry]) -> None:
    for entry in chain:
        assert entry_bytes(entry) == canonical_json({
            "seq": entry.seq, "at": utc_text(entry.at), "action": entry.action, "actor": entry.actor,
            "device_id": entry.device_id, "site_id": entry.site_id, "source": entry.source,
            "subject": entry.subject, "detail": entry.detail_json,
        }).encode("utf-8")


def test_canonical_form_of_an_entry() -> None:
    at = datetime(2026, 11, 24, 6, 45, tzinfo=timezone.utc)
    entry = Entry(1, at, "auth.login", "王𠮷", None, None, "10.0.0.7", "u-1", canonical_json({"b": 1, "a": "𠮷"}))
    assert canonical_json({"b": 1, "a": "𠮷"}) == '{"a":"𠮷","b":1}'
    assert entry_bytes(entry) == (
        '{"action":"auth.login","actor":"王𠮷","at":"2026-11-24T06:45:00.000000Z","detail":"{\\"a\\":\\"𠮷\\",\\"b\\":1}",'
        '"device_id":null,"seq":1,"site_id":null,"source":"10.0.0.7","subject":"u-1"}'
    ).encode("utf-8")
    assert "𠮷".encode("utf-8") in entry_bytes(entry)  # four UTF-8 bytes, not a \\u escape
    # Another time zone for the same moment is the same entry.
    assert entry_bytes(replace(entry, at=at.astimezone(timezone(timedelta(hours=8))))) == entry_bytes(entry)


def test_details_take_times_and_decimals_and_refuse_other_objects() -> None:
    from decimal import Decimal

    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    assert canonical_json({"at": at, "q": Decimal("1.500")}) == '{"at":"2026-01-02T03:04:05.000006Z","q":"1.5"}'
    with pytest.raises(TypeError):
        canonical_json({"x": object()})
