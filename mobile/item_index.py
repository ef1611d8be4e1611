"""Finding items by what a clerk types: SKU, barcode, part of the name, or pinyin initials.

Clerks type ``lsmb`` for 螺栓帽 (luó shuān mào) faster than the characters. Each name gets a
search key made of its pinyin initials; a character with several readings (行: xíng, háng;
长: cháng, zhǎng) contributes every initial, so the key holds each spelling that reading the
name could give (``hz|hc|xz|xc``; at most ``MAX_SPELLINGS``, beyond which the first readings
are kept). Letters and digits in a name stay as they are (``M8螺栓`` → ``m8ls``).

Invariants:
- Pure Python over rows the caller reads; no Kivy, no database access here.
- Initials are looked up once per distinct character (``_initials`` is cached), which is what
  makes 100,000 names index in well under a second (measured by bench/mobile.py).
- A result list is ranked: exact SKU or barcode, SKU prefix, initials prefix, name substring,
  initials substring; ties keep SKU order. ``search`` never returns more than ``limit``.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Iterator

MAX_SPELLINGS = 8
SEPARATOR = "|"


@dataclass(frozen=True)
class IndexedItem:
    id: str
    sku: str
    name: str
    barcode: str | None
    unit_code: str
    key: str  # pinyin-initial spellings, each preceded by SEPARATOR ("|hz|xz"): prefix test is "|q" in key


@functools.lru_cache(maxsize=None)
def _initials(char: str) -> tuple[str, ...]:
    """Every initial the character can start with, first reading first ("" if it has none)."""
    if char.isascii():
        return (char.lower(),) if char.isalnum() else ("",)
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.FIRST_LETTER, heteronym=True, errors="ignore")
    readings = found[0] if found else []
    letters: list[str] = []
    for reading in readings:
        letter = unicodedata.normalize("NFKD", reading)[:1].lower()
        letter = letter if letter.isascii() and letter.isalpha() else ""
        if letter not in letters:
            letters.append(letter)
    return tuple(letters) or ("",)


def initials_key(name: str) -> str:
    """The search key of a name: its pinyin-initial spellings joined by ``SEPARATOR``."""
    choices = [_initials(char) for char in name]
    if all(len(options) == 1 for options in choices):
        return "".join(options[0] for options in choices)
    spellings = []
    for combination in itertools.islice(itertools.product(*choices), MAX_SPELLINGS):
        spelling = "".join(combination)
        if spelling not in spellings:
            spellings.append(spelling)
    return SEPARATOR.join(spellings)


class ItemIndex:
    """Items in memory with their pinyin keys; built from rows, searched by typed text.

    Each searchable column is also kept as one newline-joined text, so a search is a few
    ``str.find`` calls in C rather than a Python loop over every item: a query that matches
    nothing costs a few milliseconds at 100,000 items."""

    def __init__(self, items: Iterable[tuple[str, str, str, str | None, str]] = ()) -> None:
        self.items: list[IndexedItem] = []
        self.by_code: dict[str, IndexedItem] = {}
        self._texts: dict[str, str] = {}
        self._starts: dict[str, list[int]] = {}
        self.add(items)

    def add(self, rows: Iterable[tuple[str, str, str, str | None, str]]) -> None:
        """Index (id, sku, name, barcode, unit code) rows."""
        for item_id, sku, name, barcode, unit_code in rows:
            entry = IndexedItem(item_id, sku, name, barcode, unit_code, SEPARATOR + initials_key(name))
            self.items.append(entry)
            self.by_code[sku.lower()] = entry
            if barcode:
                self.by_code[barcode.lower()] = entry
        self.items.sort(key=lambda entry: entry.sku)
        # One line per item in each text; every line of a text starts at the same item number,
        # so a match position maps to its item through that text's line starts.
        self._texts = {}
        self._starts = {}
        for column, value in (("sku", lambda e: e.sku.lower()), ("name", lambda e: e.name.lower()),
                              ("key", lambda e: e.key)):
            lines = [value(entry).replace("\n", " ") for entry in self.items]
            starts, position = [], 1
            for line in lines:
                starts.append(position)
                position += len(line) + 1
            self._texts[column] = "\n" + "\n".join(lines) + "\n"
            self._starts[column] = starts

    def __len__(self) -> int:
        return len(self.items)

    def _matches(self, column: str, needle: str) -> Iterator[IndexedItem]:
        text, starts = self._texts[column], self._starts[column]
        lead = 1 if needle.startswith("\n") else 0  # a "line starts with" needle begins on the line before
        position = text.find(needle)
        while position >= 0:
            number = bisect.bisect_right(starts, position + lead) - 1
            yield self.items[max(number, 0)]
            # Go on from the next line: one item is reported once per column.
            following = starts[number + 1] if number + 1 < len(starts) else len(text)
            position = text.find(needle, max(following - lead, position + 1))

    def search(self, text: str, limit: int = 30) -> list[IndexedItem]:
        query = text.strip().lower().replace("\n", " ")
        if not query:
            return []
        exact = self.by_code.get(query)
        if exact is not None:
            return [exact]
        ranked: list[IndexedItem] = []
        seen: set[str] = set()
        plain = query.isascii() and query.isalnum()
        tiers = [("sku", "\n" + query), ("key", SEPARATOR + query) if plain else None, ("name", query),
                 ("key", query) if plain else None]
        for tier in tiers:
            if tier is None:
                continue
            for entry in self._matches(*tier):
                if entry.id not in seen:
                    seen.add(entry.id)
                    ranked.append(entry)
                    if len(ranked) >= limit:
                        return ranked
        return ranked
