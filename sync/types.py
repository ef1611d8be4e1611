"""Column types that keep Decimal and UTC exact on every database we run on.

Invariants:
- ``Money``/``Qty`` values are ``Decimal`` in Python. PostgreSQL stores NUMERIC; SQLite stores
  the canonical decimal string, because SQLite's NUMERIC affinity would turn them into floats.
- ``UtcDateTime`` values are timezone-aware UTC datetimes. PostgreSQL stores timestamptz;
  SQLite stores RFC 3339 text ending in ``Z``, the same text msgspec puts on the wire, so a
  bootstrapped replica can take wire values as they are.
- Both accept the wire's string form on the way in, so a pulled row can be written without
  a decoding pass of its own.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.types import TypeDecorator


def decimal_text(value: Decimal) -> str:
    """Canonical text of a Decimal: no exponent, no trailing zeros, no rounding.

    (``Decimal.normalize`` would round to the context's 28 digits; NUMERIC(30, 9) holds more.)
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "", "-") else text


def utc_text(value: datetime) -> str:
    """RFC 3339 UTC text with a fixed six-digit fraction and a ``Z`` suffix.

    Fixed width keeps text order equal to time order, so SQLite can compare and sort it.
    """
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_utc(value: str | datetime) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: times must carry a UTC offset")
    return parsed.astimezone(timezone.utc)


class DecimalType(TypeDecorator[Decimal]):
    """Exact decimal: NUMERIC(30, 9) on PostgreSQL, canonical text on SQLite."""

    impl = String(48)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(30, 9, asdecimal=True))
        return dialect.type_descriptor(String(48))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite decimal")
        return number if dialect.name == "postgresql" else decimal_text(number)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        # PostgreSQL pads to the column scale (10.000000000); normalize so both databases
        # hand out the same canonical value.
        return Decimal(decimal_text(value if isinstance(value, Decimal) else Decimal(value)))


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps: timestamptz on PostgreSQL, RFC 3339 text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        moment = parse_utc(value)
        return moment if dialect.name == "postgresql" else utc_text(moment)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return parse_utc(value)
