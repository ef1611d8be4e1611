"""Document numbers that devices draw offline: per-site series, blocks, provisional numbers.

A document a device creates (a service ticket, a sales order a branch takes) needs a number people can read out on the
phone, ``ST-BR1-0001234``: the document type's prefix, the site's code, seven digits. Numbers
must never collide, yet the device draws them while it cannot ask anyone. So:

1. The server keeps one counter per site and document type (``number_series``, server-only).
2. A device, while it is online, reserves a block of the next numbers for itself
   (``org.reserve_numbers``). The server allocates the block from the counter and the device
   receives it on its next pull (``number_blocks``, one device's rows only). Blocks of one
   series never overlap, because only the server's counter hands them out.
3. The device draws numbers from its blocks, in order (``edge_client/numbering.py``). When its
   blocks run out, it keeps working with a provisional number ``ST-BR1-P<device>-00001``,
   recognisable by the ``P`` and unique because it carries the device's id.
4. When the document reaches the server, ``assign_number`` keeps a number that lies in one of
   this device's blocks and is unused, and gives anything else (a provisional number, a number
   outside the device's blocks, one another document already has, none at all) the next number
   of the series. The document keeps the provisional number it was shown under, so the paper
   the clerk wrote it on can still be matched. The device sees the final number on its pull.

Invariants:
- A final number is issued once: by the server's counter (for HQ and for replacements) or as
  part of exactly one device's block, and the counter only moves forward.
- A device never holds more than two unused blocks of a series (it asks for a new block only
  when it is low and no request is already waiting), so a lost tablet strands few numbers.
- Gaps are allowed (a stranded block, a rejected document); duplicates are not.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Callable, Literal

import msgspec
from sqlalchemy import BigInteger, Column, Index, String, Table, select, update

from erp.org.site import sites
from sync.context import MutationContext, Side
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import UtcDateTime

DocumentType = Literal["service_ticket", "sales_order"]

# The letters a number starts with, per document type. Part of every printed number: never change one.
PREFIXES: dict[str, str] = {"service_ticket": "ST", "sales_order": "SO"}
DIGITS = 7
DEFAULT_BLOCK = 100

INVALID_BLOCK = "org.invalid_number_block"
UNKNOWN_SITE = "org.unknown_site"

# The server's counter per site and document type; devices never see it.
number_series = Table(
    "number_series",
    metadata,
    Column("site_id", ID, primary_key=True),
    Column("document_type", String(32), primary_key=True),
    Column("next_number", BigInteger, nullable=False),  # the first number nobody holds yet
)

# The blocks reserved by devices; each device receives its own.
number_blocks = Table(
    "number_blocks",
    metadata,
    Column("id", ID, primary_key=True),  # from the device's request, so a replay reserves nothing twice
    Column("device_id", ID, nullable=False),
    Column("site_id", ID, nullable=False),
    Column("document_type", String(32), nullable=False),
    Column("first_number", BigInteger, nullable=False),
    Column("last_number", BigInteger, nullable=False),  # inclusive
    Column("reserved_at", UtcDateTime, nullable=False),
    version_column(),
    Index("ix_number_blocks_device_key", "device_id", "id"),
    Index("ix_number_blocks_series", "site_id", "document_type", "first_number"),
)


class ReserveNumbers(msgspec.Struct, frozen=True):
    block_id: str
    site_id: str
    document_type: DocumentType
    size: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = DEFAULT_BLOCK


def format_number(document_type: str, site_code: str, number: int) -> str:
    return f"{PREFIXES[document_type]}-{site_code}-{number:0{DIGITS}d}"


def provisional_number(document_type: str, site_code: str, device_id: str, counter: int) -> str:
    """A number a device gives a document when its blocks are used up; replaced on the server.

    It names the device by the last 8 characters of its id: the random part of a UUIDv7 (the
    first ones are a timestamp, shared by devices enrolled in the same minute)."""
    device = re.sub(r"[^0-9A-Za-z]", "", device_id)[-8:].upper()
    return f"{PREFIXES[document_type]}-{site_code}-P{device}-{counter:05d}"


def parse_final(document_type: str, site_code: str, text: str) -> int | None:
    """The sequence number in a final number of this series, or None (provisional, foreign, garbage)."""
    match = re.fullmatch(rf"{re.escape(PREFIXES[document_type])}-{re.escape(site_code)}-(\d{{{DIGITS},}})", text)
    return int(match.group(1)) if match else None


def _site_code(ctx: MutationContext, site_id: str) -> str:
    site = ctx.get(sites, id=site_id)
    if site is None:
        ctx.reject(UNKNOWN_SITE, "this site does not exist", site_id=site_id)
    return site["code"]


def _take_from_counter(ctx: MutationContext, site_id: str, document_type: str, count: int) -> int:
    """Advance the series' counter by ``count``; the first number taken."""
    series = number_series.c
    key = (series.site_id == site_id) & (series.document_type == document_type)
    # Locks the counter row on PostgreSQL, so two concurrent pushes cannot take the same numbers.
    row = ctx.conn.execute(select(series.next_number).where(key).with_for_update()).first()
    if row is None:
        ctx.conn.execute(number_series.insert().values(site_id=site_id, document_type=document_type,
                                                       next_number=1 + count))
        return 1
    ctx.conn.execute(update(number_series).where(key).values(next_number=row.next_number + count))
    return row.next_number


@mutation("org.reserve_numbers", 1, ReserveNumbers)
def reserve_numbers(ctx: MutationContext, args: ReserveNumbers) -> None:
    """Reserve a block of document numbers for this device (the server allocates it)."""
    if ctx.side is not Side.SERVER:
        return  # only the server's counter may hand out numbers; the block arrives with the pull
    if ctx.actor.device_id is None:
        ctx.reject(INVALID_BLOCK, "number blocks are reserved by devices; HQ draws from the series directly")
    if not ctx.actor.is_hq and args.site_id != ctx.actor.site_id:
        ctx.reject(INVALID_BLOCK, "a device reserves numbers of its own site only", site_id=args.site_id)
    _site_code(ctx, args.site_id)
    first = _take_from_counter(ctx, args.site_id, args.document_type, args.size)
    ctx.insert(number_blocks, {
        "id": args.block_id, "device_id": ctx.actor.device_id, "site_id": args.site_id,
        "document_type": args.document_type, "first_number": first, "last_number": first + args.size - 1,
        "reserved_at": datetime.now(timezone.utc),
    })


def assign_number(ctx: MutationContext, *, site_id: str, document_type: str, proposed: str | None,
                  in_use: Callable[[str], bool]) -> tuple[str | None, str | None]:
    """The number a new document gets, and the provisional number it replaces (if any).

    On a device the proposal stands (it came from the device's own blocks or is provisional;
    None from a caller that drew none, until the server numbers it); the server decides.
    ``in_use`` says whether another document already carries a number.
    """
    if ctx.side is not Side.SERVER:
        return proposed, None
    site_code = _site_code(ctx, site_id)
    if proposed is not None and ctx.ref.device_id is not None:
        sequence = parse_final(document_type, site_code, proposed)
        if sequence is not None and not in_use(proposed) and _in_device_block(
                ctx, ctx.ref.device_id, site_id, document_type, sequence):
            return proposed, None
    while True:  # a number handed out by an old block could still be taken; skip past it
        number = format_number(document_type, site_code, _take_from_counter(ctx, site_id, document_type, 1))
        if not in_use(number):
            return number, proposed


def _in_device_block(ctx: MutationContext, device_id: str, site_id: str, document_type: str, sequence: int) -> bool:
    blocks = number_blocks.c
    return ctx.conn.execute(select(blocks.id).where(
        blocks.device_id == device_id, blocks.site_id == site_id, blocks.document_type == document_type,
        blocks.first_number <= sequence, blocks.last_number >= sequence)).first() is not None
