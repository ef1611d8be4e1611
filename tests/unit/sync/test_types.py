"""Column types of ``sync.types`` on a real SQLite database: ``DecimalType`` keeps Decimal
values exact (stored as canonical text), ``UtcDateTime`` keeps instants exact in UTC (stored as
RFC 3339 text ending in ``Z``), naive datetimes are refused and wire strings are accepted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError

from sync.types import DecimalType, UtcDateTime, decimal_text, parse_utc, utc_text

# A private MetaData: these probe tables must not join the application's metadata.
probe_metadata = MetaData()
probe = Table(
    "type_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", DecimalType),
    Column("moment", UtcDateTime),
)

ENGINE = create_engine("sqlite://")
probe_metadata.create_all(ENGINE)

# Up to 9 decimals; at most 28 significant digits (19 integer digits + 9 decimals).
DECIMALS = st.decimals(
    min_value=Decimal(-(10**19) + 1),
    max_value=Decimal(10**19 - 1),
    places=9,
    allow_nan=False,
    allow_infinity=False,
)
LARGE_INTEGERS = st.integers(min_value=-(10**28) + 1, max_value=10**28 - 1)
OFFSETS = st.builds(
    timezone,
    st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)),
)
AWARE = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=OFFSETS
)


@pytest.fixture
def conn() -> Iterator[Connection]:
    with ENGINE.connect() as connection:
        yield connection
        connection.rollback()


def round_trip(connection: Connection, column: str, value: Any) -> tuple[Any, Any]:
    """Write ``value`` into ``column``; return (value read through the type, raw stored value)."""
    connection.execute(probe.delete())
    connection.execute(insert(probe).values(id=1, **{column: value}))
    loaded = connection.execute(select(probe.c[column])).scalar_one()
    raw = connection.execute(text(f"SELECT {column} FROM type_probe")).scalar_one()
    return loaded, raw


# -- DecimalType -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(DECIMALS)
def test_decimal_round_trips_exactly_on_sqlite(value: Decimal) -> None:
    with ENGINE.connect() as connection:
        loaded, raw = round_trip(connection, "amount", value)
        connection.rollback()
    assert isinstance(loaded, Decimal)
    assert loaded == value
    assert raw == decimal_text(value)  # stored as canonical text, not as a float


@settings(max_examples=100, deadline=None)
@given(LARGE_INTEGERS)
def test_large_integers_round_trip_exactly_on_sqlite(number: int) -> None:
    with ENGINE.connect() as connection:
        loaded, raw = round_trip(connection, "amount", Decimal(number))
        connection.rollback()
    assert loaded == Decimal(number)
    assert raw == str(number)


def test_decimal_null_stays_null(conn: Connection) -> None:
    loaded, raw = round_trip(conn, "amount", None)
    assert loaded is None and raw is None


@pytest.mark.parametrize(
    ("wire", "expected"),
    [("12.50", Decimal("12.5")), ("-0.000000001", Decimal("-0.000000001")), ("1E+3", Decimal(1000)), (7, Decimal(7))],
)
def test_decimal_accepts_wire_strings_and_ints(conn: Connection, wire: Any, expected: Decimal) -> None:
    loaded, raw = round_trip(conn, "amount", wire)
    assert loaded == expected
    assert raw == decimal_text(expected)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), "-Infinity"])
def test_decimal_refuses_non_finite_values(conn: Connection, bad: Any) -> None:
    with pytest.raises(StatementError) as caught:
        conn.execute(insert(probe).values(id=2, amount=bad))
    assert isinstance(caught.value.orig, ValueError)


@given(st.one_of(DECIMALS, LARGE_INTEGERS.map(Decimal)))
def test_decimal_text_is_canonical(value: Decimal) -> None:
    rendered = decimal_text(value)
    assert "e" not in rendered.lower()
    assert rendered != "-0"
    if "." in rendered:
        assert not rendered.endswith("0")
        assert not rendered.endswith(".")
    assert Decimal(rendered) == value
    # Canonical: equal values have one text, however they are written.
    assert decimal_text(Decimal(rendered)) == rendered
    assert decimal_text(value * 1 + Decimal("0.000")) == rendered


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.500"), "1.5"),
        (Decimal("100"), "100"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.000000001"), "0.000000001"),
        (Decimal("-0.000"), "0"),
        (Decimal("0E-9"), "0"),
        (Decimal("-12.340"), "-12.34"),
    ],
)
def test_decimal_text_examples(value: Decimal, expected: str) -> None:
    assert decimal_text(value) == expected


@pytest.mark.parametrize(
    "value",
    [Decimal("123456789012345678901.123456789"), Decimal("123456789012345678901234567890")],
)
def test_decimal_with_more_than_28_significant_digits_round_trips(conn: Connection, value: Decimal) -> None:
    loaded, raw = round_trip(conn, "amount", value)
    assert loaded == value


# -- UtcDateTime -------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(AWARE)
def test_aware_datetimes_come_back_as_the_same_instant_in_utc(moment: datetime) -> None:
    with ENGINE.connect() as connection:
        loaded, raw = round_trip(connection, "moment", moment)
        connection.rollback()
    assert loaded == moment  # the same instant
    assert loaded.utcoffset() == timedelta(0)
    assert loaded.tzinfo is timezone.utc
    assert loaded.replace(tzinfo=None) == moment.astimezone(timezone.utc).replace(tzinfo=None)
    assert isinstance(raw, str) and raw.endswith("Z")
    assert raw == utc_text(moment)


@given(AWARE)
def test_utc_text_is_fixed_width_and_reads_back_like_the_wire_form(moment: datetime) -> None:
    utc = moment.astimezone(timezone.utc)
    text = utc_text(moment)
    assert len(text) == len("2026-11-24T01:17:07.000000Z") and text.endswith("Z")
    assert parse_utc(text) == parse_utc(msgspec.json.encode(utc).decode().strip('"')) == moment


def test_naive_datetimes_are_refused(conn: Connection) -> None:
    with pytest.raises(StatementError) as caught:
        conn.execute(insert(probe).values(id=3, moment=datetime(2024, 5, 1, 8, 30)))
    assert isinstance(caught.value.orig, ValueError)
    assert "naive" in str(caught.value.orig)
    assert conn.execute(select(probe.c.id).where(probe.c.id == 3)).first() is None


def test_naive_wire_strings_are_refused(conn: Connection) -> None:
    with pytest.raises(StatementError) as caught:
        conn.execute(insert(probe).values(id=4, moment="2024-05-01T08:30:00"))
    assert isinstance(caught.value.orig, ValueError)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("2024-05-01T08:30:00+08:00", datetime(2024, 5, 1, 0, 30, tzinfo=timezone.utc)),
        ("2024-05-01T00:30:00Z", datetime(2024, 5, 1, 0, 30, tzinfo=timezone.utc)),
        ("2024-04-30T19:30:00.250000-05:00", datetime(2024, 5, 1, 0, 30, 0, 250000, tzinfo=timezone.utc)),
    ],
)
def test_datetime_accepts_wire_strings(conn: Connection, wire: str, expected: datetime) -> None:
    loaded, raw = round_trip(conn, "moment", wire)
    assert loaded == expected
    assert loaded.tzinfo is timezone.utc
    assert raw == utc_text(expected)


def test_sql_comparison_of_utc_datetimes_follows_time_order(conn: Connection) -> None:
    whole = datetime(2024, 5, 1, 8, 30, 0, tzinfo=timezone.utc)
    later = whole + timedelta(microseconds=250_000)
    conn.execute(probe.delete())
    conn.execute(insert(probe), [{"id": 1, "moment": later}, {"id": 2, "moment": whole}])
    ordered = conn.execute(select(probe.c.id).order_by(probe.c.moment)).scalars().all()
    assert ordered == [2, 1]
    since = conn.execute(select(probe.c.id).where(probe.c.moment >= whole).order_by(probe.c.id)).scalars().all()
    assert since == [1, 2]


def test_parse_utc_refuses_naive_text() -> None:
    with pytest.raises(ValueError, match="naive"):
        parse_utc("2024-05-01T08:30:00")
