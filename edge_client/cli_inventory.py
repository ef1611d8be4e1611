"""``jcerp edge`` commands for counting: the site's open cycle counts, and a counted quantity on a line.

They read the count and its lines from the device's own replica, so they work offline. The
count is blind: the listing shows what to count and what was counted, never what the system
holds. A counted quantity is an ``inventory.record_count`` mutation, decided by the server on
sync (a count on a document HQ cancelled meanwhile is kept and flagged for review).
"""

from __future__ import annotations

import argparse

from sqlalchemy import select

from edge_client.cli import _decimal, _now, _with_client
from edge_client.client import EdgeClient
from erp.inventory.cycle_count import COUNTING_STATES, RecordCount, cycle_count_lines, cycle_counts
from erp.inventory.item import items
from erp.inventory.warehouse import locations
from sync.errors import NotFound
from sync.ids import new_id


def cmd_cycle_counts(client: EdgeClient, a: argparse.Namespace) -> int:
    line = cycle_count_lines
    with client.engine.begin() as conn:
        rows = conn.execute(
            select(cycle_counts.c.number, cycle_counts.c.status, line.c.line_no, items.c.sku, items.c.name,
                   locations.c.code, line.c.lot_no, line.c.counted_quantity)
            .join(line, line.c.count_id == cycle_counts.c.id)
            .join(items, items.c.id == line.c.item_id).join(locations, locations.c.id == line.c.location_id)
            .where(cycle_counts.c.site_id == client.identity.site_id,
                   cycle_counts.c.status.in_(sorted(COUNTING_STATES)))
            .order_by(cycle_counts.c.number, line.c.line_no)).all()
    for row in rows:
        counted = "not counted" if row.counted_quantity is None else f"counted {row.counted_quantity}"
        print(f"{row.number}\t{row.line_no}\t{row.sku}\t{row.name}\t{row.code}\t{row.lot_no or '-'}\t{counted}\t"
              f"{row.status}")
    if not rows:
        print("no open cycle counts on this device (sync to receive new ones)")
    return 0


def cmd_count_line(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        document = conn.execute(select(cycle_counts).where(cycle_counts.c.number == a.count)).first()
        if document is None:
            raise NotFound(f"no cycle count {a.count} on this device (sync, or check the number)",
                           code="edge.unknown_cycle_count", number=a.count)
        chosen = conn.execute(select(cycle_count_lines).where(cycle_count_lines.c.count_id == document.id,
                                                              cycle_count_lines.c.line_no == a.line)).first()
    if chosen is None:
        raise NotFound(f"cycle count {a.count} has no line {a.line}", code="edge.unknown_count_line",
                       number=a.count, line_no=a.line)
    seq = client.run("inventory.record_count", RecordCount(entry_id=new_id(), line_id=chosen.id,
                                                           counted_quantity=a.qty, occurred_at=_now()), user=a.user)
    print(f"counted {a.qty} on {a.count} line {a.line} (mutation #{seq}, pending sync)")
    return 0


def add_inventory_commands(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("cycle-counts", help="cycle counts of this site still being counted (blind)").set_defaults(
        handler=_with_client(cmd_cycle_counts))
    parser = sub.add_parser("count-line", help="record a counted quantity on a cycle-count line")
    parser.add_argument("--count", required=True, help="cycle count number")
    parser.add_argument("--line", required=True, type=int, help="line number")
    parser.add_argument("--qty", required=True, type=_decimal, help="the quantity counted on the shelf")
    parser.add_argument("--user", help="who is acting (default: the user signed in on this device)")
    parser.set_defaults(handler=_with_client(cmd_count_line))
