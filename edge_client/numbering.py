"""Document numbers on the device: draw from the blocks this device reserved, else provisional.

The rules are in ``erp/org/number_series.py``. This side keeps, per block, the last number it
handed out (``edge_meta`` key ``numbers_used:<block id>``), draws the next one in order, and
asks for a new block (the ``org.reserve_numbers`` mutation, carried by the next push) when fewer
than ``LOW_WATER`` numbers are left and no request is waiting already. With no numbers left it
hands out a provisional number; the server replaces it when the document arrives. A new
device therefore numbers its very first document provisionally, unless it reserved a block
beforehand (``jcerp edge reserve-numbers``).

Invariants:
- A number is handed out once: the draw and the record of it happen in one local transaction.
- At most one reservation per document type waits in the outbox, so a device offline for a
  week does not queue a request with every document it creates.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, select

from edge_client.local_tables import edge_outbox
from edge_client.replica import get_meta, set_meta
from edge_client.sign_in import UserForbidden
from erp.org.number_series import (
    DEFAULT_BLOCK, ReserveNumbers, format_number, number_blocks, provisional_number,
)
from erp.org.site import sites
from sync.ids import new_id

LOW_WATER = 20  # ask for the next block while this many numbers are still left


def remaining(conn: Connection, *, device_id: str, site_id: str, document_type: str) -> int:
    """How many numbers this device can still hand out without a new block."""
    return sum(block.last_number - _last_used(conn, block) for block in _blocks(conn, device_id, site_id, document_type))


def draw(conn: Connection, *, device_id: str, site_id: str, document_type: str) -> str:
    """The next number for a new document: from a block, else provisional. Records its use."""
    site_code = conn.execute(select(sites.c.code).where(sites.c.id == site_id)).scalar_one()
    for block in _blocks(conn, device_id, site_id, document_type):
        last = _last_used(conn, block)
        if last < block.last_number:
            set_meta(conn, f"numbers_used:{block.id}", last + 1)
            return format_number(document_type, site_code, last + 1)
    counter = int(get_meta(conn, f"provisional_numbers:{document_type}", "0") or 0) + 1
    set_meta(conn, f"provisional_numbers:{document_type}", counter)
    return provisional_number(document_type, site_code, device_id, counter)


def reservation_waiting(conn: Connection, document_type: str) -> bool:
    rows = conn.execute(select(edge_outbox.c.args).where(edge_outbox.c.name == "org.reserve_numbers")).all()
    return any(msgspec.msgpack.decode(row.args, type=ReserveNumbers).document_type == document_type for row in rows)


def top_up(client: Any, document_type: str, *, user: str | None = None) -> bool:
    """Queue a request for a new block if this device is running low. True if it queued one."""
    identity = client.identity
    with client.engine.begin() as conn:
        low = remaining(conn, device_id=identity.device_id, site_id=identity.site_id,
                        document_type=document_type) < LOW_WATER
        if not low or reservation_waiting(conn, document_type):
            return False
    client.run("org.reserve_numbers", ReserveNumbers(block_id=new_id(), site_id=identity.site_id,
                                                     document_type=document_type, size=DEFAULT_BLOCK), user=user)
    return True


def next_number(client: Any, document_type: str, *, user: str | None = None) -> str:
    """Draw a number for a document about to be created here (and top up if running low)."""
    try:
        top_up(client, document_type, user=user)
    except UserForbidden:
        pass  # a custom role without org.reserve_numbers: the document still gets a number, provisional at worst
    identity = client.identity
    with client.engine.begin() as conn:
        return draw(conn, device_id=identity.device_id, site_id=identity.site_id, document_type=document_type)


def _blocks(conn: Connection, device_id: str, site_id: str, document_type: str) -> list[Any]:
    blocks = number_blocks.c
    return list(conn.execute(select(number_blocks).where(
        blocks.device_id == device_id, blocks.site_id == site_id, blocks.document_type == document_type,
    ).order_by(blocks.first_number)))


def _last_used(conn: Connection, block: Any) -> int:
    used = get_meta(conn, f"numbers_used:{block.id}")
    return int(used) if used is not None else block.first_number - 1
