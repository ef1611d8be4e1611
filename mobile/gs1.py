"""GS1-128 element strings, as a barcode scanner types them, parsed into item, lot and expiry.

A GS1-128 label carries Application Identifiers (AI): ``01`` the GTIN, ``10`` the lot, ``17``
the expiry date (YYMMDD), ``30``/``37`` a count, and so on. A scanner in keyboard mode types
them one after the other: fixed-length fields just run on, a variable-length field ends with
FNC1, which the scanner sends as the ASCII group separator (GS, ``\\x1d``). Some scanners put
the symbology identifier first (``]C1`` for GS1-128, ``]d2`` DataMatrix, ``]Q3`` QR). People
also type the printed form, with AIs in brackets: ``(01)06901234567892(17)270531(10)L2405``.
Both forms are accepted.

Pure: no I/O, no Kivy. Invariants (property-tested in tests/mobile/test_gs1.py):
- ``parse(encode(fields))`` gives back ``fields``, in either form;
- ``parse`` of any text either returns ``GS1Data`` or raises ``GS1Error`` (a stable ``code``);
- a GTIN is accepted only with a correct check digit; a date only if it exists (day ``00``
  means the last day of the month, as the GS1 General Specifications say).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

GS = "\x1d"
SYMBOLOGY_PREFIXES = ("]C1", "]d2", "]Q3", "]e0")

# AI -> (fixed length of the data, or None for variable; maximum length)
AI_TABLE: dict[str, tuple[int | None, int]] = {
    "00": (18, 18), "01": (14, 14), "02": (14, 14),
    "10": (None, 20), "11": (6, 6), "12": (6, 6), "13": (6, 6), "15": (6, 6), "16": (6, 6), "17": (6, 6),
    "20": (2, 2), "21": (None, 20), "22": (None, 20),
    "30": (None, 8), "37": (None, 8),
    "240": (None, 30), "241": (None, 30), "250": (None, 30), "251": (None, 30),
    "400": (None, 30), "401": (None, 30),
    **{f"41{i}": (13, 13) for i in range(0, 8)},
}
# Measures (net weight, length, ...): 4-digit AIs 310n-369n, 6 digits with n implied decimals.
MEASURE = re.compile(r"3[1-6]\d\d")
DATE_AIS = {"11": "production", "12": "due", "13": "packaging", "15": "best_before", "16": "sell_by", "17": "expiry"}
CHARSET = re.compile(r"[!-~]*")  # GS1 AI encodable set 82 is a subset of printable ASCII
BRACKETED = re.compile(r"\((\d{2,4})\)([^()]*)")


class GS1Error(ValueError):
    """Text that is not a valid GS1 element string; ``code`` is stable, ``message`` is English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class GS1Data:
    """What a GS1 label says. ``fields`` holds every AI as typed (data as text)."""

    fields: dict[str, str] = field(default_factory=dict)

    @property
    def gtin(self) -> str | None:
        return self.fields.get("01") or self.fields.get("02")

    @property
    def lot(self) -> str | None:
        return self.fields.get("10")

    @property
    def serial(self) -> str | None:
        return self.fields.get("21")

    @property
    def expiry(self) -> date | None:
        return parse_date(self.fields["17"]) if "17" in self.fields else None

    @property
    def quantity(self) -> Decimal | None:
        text = self.fields.get("30") or self.fields.get("37")
        return Decimal(text) if text else None


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (every digit but the check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def valid_gtin(gtin: str) -> bool:
    return gtin.isdigit() and len(gtin) in (8, 12, 13, 14) and check_digit(gtin[:-1]) == int(gtin[-1])


def gtin_candidates(gtin: str) -> list[str]:
    """The forms an item master may hold a GTIN in: GTIN-14 as scanned, and the EAN-13,
    UPC-A and EAN-8 it pads (leading zeros dropped)."""
    forms = [gtin]
    for length in (13, 12, 8):
        if len(gtin) > length and set(gtin[:len(gtin) - length]) == {"0"}:
            forms.append(gtin[-length:])
    return forms


def parse_date(text: str, today: date | None = None) -> date:
    """YYMMDD with the GS1 century rule (within 49 years back and 50 ahead of ``today``);
    day 00 is the last day of the month."""
    if len(text) != 6 or not text.isdigit():
        raise GS1Error("gs1.bad_date", f"{text!r} is not a YYMMDD date")
    yy, month, day = int(text[:2]), int(text[2:4]), int(text[4:])
    current = (today or date.today()).year
    century = current - current % 100
    difference = yy - current % 100
    if difference >= 51:
        century -= 100
    elif difference <= -50:
        century += 100
    year = century + yy
    if not 1 <= month <= 12:
        raise GS1Error("gs1.bad_date", f"{text!r}: there is no month {month}")
    last = calendar.monthrange(year, month)[1]
    if day == 0:
        day = last
    if day > last:
        raise GS1Error("gs1.bad_date", f"{text!r}: month {month} of {year} has no day {day}")
    return date(year, month, day)


def _spec(ai_text: str) -> tuple[str, int | None, int] | None:
    """The AI at the start of ``ai_text`` with its (fixed length, maximum length)."""
    for size in (2, 3, 4):
        ai = ai_text[:size]
        if ai in AI_TABLE:
            return (ai, *AI_TABLE[ai])
        if size == 4 and MEASURE.fullmatch(ai):
            return ai, 6, 6
    return None


def _check(ai: str, value: str) -> None:
    fixed, maximum = (6, 6) if MEASURE.fullmatch(ai) else AI_TABLE[ai]
    if not value or len(value) > maximum or (fixed is not None and len(value) != fixed):
        raise GS1Error("gs1.bad_length", f"AI ({ai}) cannot hold {value!r}")
    if not CHARSET.fullmatch(value) or GS in value:
        raise GS1Error("gs1.bad_character", f"AI ({ai}) holds a character GS1 does not allow")
    numeric = ai in ("00", "01", "02", "20", "30", "37") or ai in DATE_AIS or ai.startswith("41") or MEASURE.fullmatch(ai)
    if numeric and not value.isdigit():
        raise GS1Error("gs1.not_numeric", f"AI ({ai}) must be digits, got {value!r}")
    if ai in ("01", "02", "00") or ai.startswith("41"):
        if check_digit(value[:-1]) != int(value[-1]):
            raise GS1Error("gs1.bad_check_digit", f"AI ({ai}) {value}: wrong check digit")
    if ai in DATE_AIS:
        parse_date(value)


def looks_like_gs1(text: str) -> bool:
    """Whether a scan is a GS1 element string rather than a plain SKU or barcode."""
    text = text.strip()
    return (text.startswith(SYMBOLOGY_PREFIXES) or GS in text or text.startswith("(")
            or (len(text) >= 16 and text[:2] in ("01", "02") and text[2:16].isdigit()))


def parse(text: str) -> GS1Data:
    """Parse a scanned or typed GS1 element string. Raises ``GS1Error``."""
    text = text.strip().strip("\r\n")
    for prefix in SYMBOLOGY_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    text = text.lstrip(GS)
    if not text:
        raise GS1Error("gs1.empty", "nothing was scanned")
    fields: dict[str, str] = {}
    if text.startswith("("):
        position = 0
        for match in BRACKETED.finditer(text):
            if match.start() != position:
                raise GS1Error("gs1.malformed", f"unexpected text at {position}: {text[position:match.start()]!r}")
            ai, value = match.group(1), match.group(2).rstrip(GS)
            if _spec(ai) is None or _spec(ai)[0] != ai:
                raise GS1Error("gs1.unknown_ai", f"unknown application identifier ({ai})")
            _add(fields, ai, value)
            position = match.end()
        if position != len(text):
            raise GS1Error("gs1.malformed", f"unexpected text at {position}: {text[position:]!r}")
        return GS1Data(fields)
    position = 0
    while position < len(text):
        spec = _spec(text[position:])
        if spec is None:
            raise GS1Error("gs1.unknown_ai", f"unknown application identifier at {text[position:position + 4]!r}")
        ai, fixed, maximum = spec
        position += len(ai)
        if fixed is not None:
            value = text[position:position + fixed]
            position += fixed
            if text[position:position + 1] == GS:  # an FNC1 after a fixed field is allowed
                position += 1
        else:
            end = text.find(GS, position)
            end = len(text) if end < 0 else end
            value = text[position:end]
            position = end + 1
        _add(fields, ai, value)
    return GS1Data(fields)


def _add(fields: dict[str, str], ai: str, value: str) -> None:
    if ai in fields:
        raise GS1Error("gs1.repeated_ai", f"AI ({ai}) appears twice")
    _check(ai, value)
    fields[ai] = value


def encode(fields: dict[str, str], *, bracketed: bool = False, prefix: str = "]C1") -> str:
    """The element string a scanner would type for ``fields`` (the inverse of ``parse``)."""
    if bracketed:
        return "".join(f"({ai}){value}" for ai, value in fields.items())
    parts = []
    items = list(fields.items())
    for i, (ai, value) in enumerate(items):
        fixed = 6 if MEASURE.fullmatch(ai) else AI_TABLE[ai][0]
        parts.append(ai + value + (GS if fixed is None and i < len(items) - 1 else ""))
    return prefix + "".join(parts)
