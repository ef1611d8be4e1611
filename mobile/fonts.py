"""The tablet's CJK font: find it, make a single-face copy Kivy can use, register it as the default.

Kivy's SDL2 text provider opens a font file at face 0 and has no fallback to a second font, so
one font file must hold Latin, every Chinese character a name may use, and the rare 4-byte
(CJK Extension B) characters some people's and suppliers' names contain (𠮷, 𠀋). WenQuanYi
Micro Hei has no Extension B; Noto Sans CJK has it, but Debian ships it as a collection
(``.ttc``) whose face 0 is the Japanese one. So the Simplified Chinese face is copied once out
of the collection into a plain OpenType file in a cache directory and that file is registered.

Where a font comes from, first match wins:

1. ``$JCERP_MOBILE_FONT``: a ``.ttf``/``.otf`` file (or a ``.ttc``, whose Simplified Chinese
   face is used when it has one, else its first face);
2. Noto Sans CJK (Debian ``fonts-noto-cjk``; ``scripts/ensure-cjk-font`` installs it);
3. WenQuanYi Micro Hei or Zen Hei (BMP only: Extension B characters show as boxes; logged).

Invariants:
- ``find_font`` and ``extract_face`` import no Kivy; only ``register_default_font`` does.
- The cached copy is written to a temporary name and renamed, so a crash never leaves a
  half-written font that a later start would register.
- A font without Extension B coverage is never reported as one that has it (``FontChoice.full``).
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FONT_NAME = "JcerpCJK"
NOTO_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/noto-cjk"),
             Path("/usr/share/fonts/google-noto-cjk"))
NOTO_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansCJK-Regular.otf")
WQY_FILES = (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"))
PREFERRED_FAMILY = "Noto Sans CJK SC"


class FontError(Exception):
    """A font file that cannot be read as the OpenType collection or font it claims to be."""

    code = "mobile.bad_font"


@dataclass(frozen=True)
class FontChoice:
    path: Path  # a single-face file Kivy can open
    source: Path  # where it came from (the collection, or the same file)
    family: str
    full: bool  # covers CJK Extension B (4-byte characters)


def cache_dir() -> Path:
    """Where single-face copies are kept: ``$JCERP_FONT_CACHE``, else ``$XDG_CACHE_HOME/jcerp/fonts``."""
    if os.environ.get("JCERP_FONT_CACHE"):
        return Path(os.environ["JCERP_FONT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jcerp" / "fonts"


# -- reading OpenType collections (no dependencies: the format is a header and a table directory)


def _faces(data: bytes) -> list[int]:
    """Offsets of each face's table directory: one for a plain font, several for a collection."""
    if data[:4] == b"ttcf":
        (count,) = struct.unpack(">I", data[8:12])
        return list(struct.unpack(f">{count}I", data[12:12 + 4 * count]))
    if data[:4] in (b"OTTO", b"\x00\x01\x00\x00", b"true"):
        return [0]
    raise FontError("not an OpenType font or collection")


def _tables(data: bytes, offset: int) -> dict[bytes, tuple[int, int, int]]:
    """tag -> (checksum, offset, length) of one face."""
    (count,) = struct.unpack(">H", data[offset + 4:offset + 6])
    tables = {}
    for i in range(count):
        tag, checksum, start, length = struct.unpack(">4sIII", data[offset + 12 + 16 * i:offset + 28 + 16 * i])
        tables[tag] = (checksum, start, length)
    return tables


def face_family(data: bytes, offset: int) -> str:
    """The face's family name (name id 1, Windows Unicode), or "" when it has none."""
    tables = _tables(data, offset)
    if b"name" not in tables:
        return ""
    _, start, _ = tables[b"name"]
    _, count, strings = struct.unpack(">HHH", data[start:start + 6])
    for i in range(count):
        platform, encoding, _language, name_id, length, at = struct.unpack(
            ">HHHHHH", data[start + 6 + 12 * i:start + 18 + 12 * i])
        if name_id == 1 and platform == 3 and encoding in (1, 10):
            return data[start + strings + at:start + strings + at + length].decode("utf-16-be", "replace")
    return ""


def _checksum(blob: bytes) -> int:
    blob += b"\0" * (-len(blob) % 4)
    return sum(struct.unpack(f">{len(blob) // 4}I", blob)) & 0xFFFFFFFF


def extract_face(collection: Path, family: str, target: Path) -> str:
    """Write the face of ``collection`` named ``family`` (else its first face) to ``target`` as a
    plain font. Returns the family written."""
    data = collection.read_bytes()
    faces = _faces(data)
    chosen = next((o for o in faces if face_family(data, o) == family), faces[0])
    tables = _tables(data, chosen)
    sfnt_version = data[chosen:chosen + 4]
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">4sHHHH", sfnt_version, count, power * 16, power.bit_length() - 1, count * 16 - power * 16)
    directory, body = [], bytearray()
    position = 12 + 16 * count
    head_at = None
    for tag in sorted(tables):
        checksum, start, length = tables[tag]
        if tag == b"head":
            head_at = position + len(body)
        directory.append(struct.pack(">4sIII", tag, checksum, position + len(body), length))
        body += data[start:start + length]
        body += b"\0" * (-len(body) % 4)
    font = bytearray(header + b"".join(directory) + body)
    if head_at is not None:  # the whole-file checksum lives in head.checkSumAdjustment
        font[head_at + 8:head_at + 12] = b"\0\0\0\0"
        font[head_at + 8:head_at + 12] = struct.pack(">I", (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".{os.getpid()}.part")
    partial.write_bytes(bytes(font))
    partial.replace(target)
    return face_family(data, chosen)


def _single_face(source: Path, family: str) -> tuple[Path, str]:
    """``source`` itself when it is one font, else a cached copy of its ``family`` face."""
    with source.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"ttcf":
        return source, family
    stat = source.stat()
    target = cache_dir() / f"{source.stem}-{family.replace(' ', '')}-{stat.st_size}-{int(stat.st_mtime)}.otf"
    if target.exists():
        return target, family
    return target, extract_face(source, family, target)


def find_font() -> FontChoice | None:
    """The best CJK font on this machine as a single-face file (made on first use), or None."""
    explicit = os.environ.get("JCERP_MOBILE_FONT")
    if explicit:
        path, family = _single_face(Path(explicit), PREFERRED_FAMILY)
        return FontChoice(path, Path(explicit), family, full=True)
    for directory in NOTO_DIRS:
        for name in NOTO_FILES:
            source = directory / name
            if source.exists():
                path, family = _single_face(source, PREFERRED_FAMILY)
                return FontChoice(path, source, family, full=True)
    for source in WQY_FILES:
        if source.exists():
            log.warning("only %s found: names with CJK Extension B characters (𠮷, 𠀋) will show boxes; "
                        "run scripts/ensure-cjk-font to install Noto Sans CJK", source)
            return FontChoice(source, source, "WenQuanYi", full=False)
    return None


def register_default_font() -> FontChoice | None:
    """Make the CJK font Kivy's default for every Label and TextInput. Imports Kivy."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    choice = find_font()
    if choice is None:
        log.warning("no CJK font found: Chinese text will not display; run scripts/ensure-cjk-font")
        return None
    LabelBase.register(FONT_NAME, str(choice.path))
    LabelBase.register(DEFAULT_FONT, str(choice.path))
    return choice


if __name__ == "__main__":  # scripts/ensure-cjk-font prepares the cached face at setup time
    found = find_font()
    print(f"tablet font: {found.path} ({found.family}, extension B: {'yes' if found.full else 'no'})"
          if found else "tablet font: none found")
    raise SystemExit(0 if found and found.full else 1)
