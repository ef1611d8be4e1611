"""``jcerp edge`` commands for lots: list the site's lots with FEFO picks, hold and release one.

They read the device's own replica, so they work offline. A hold or release is an
``inventory.hold_lot`` / ``inventory.release_lot`` mutation like HQ's, decided by the server on
sync; until then the hold is already in force on this device.
"""

from __future__ import annotations

import argparse

from sqlalchemy import select

from edge_client.cli import _decimal, _with_client
from edge_client.client import EdgeClient
from edge_client.lookup import find_item
from erp.inventory.fefo import suggest_picks
from erp.inventory.item import items
from erp.inventory.lot import HoldLot, ReleaseLot
from erp.inventory.queries import list_lots
from erp.inventory.warehouse import locations


def cmd_lots(client: EdgeClient, a: argparse.Namespace) -> int:
    site_id = client.identity.site_id
    with client.engine.begin() as conn:
        item_id = find_item(conn, a.item).id if a.item else None
        rows = list_lots(conn, site_id=site_id, item_id=item_id, status="held" if a.held else None)
        skus = dict(conn.execute(select(items.c.id, items.c.sku)).all())
        codes = dict(conn.execute(select(locations.c.id, locations.c.code).where(locations.c.site_id == site_id)).all())
        plan = suggest_picks(conn, site_id=site_id, item_id=item_id, quantity=a.pick) if a.pick and item_id else None
    for lot in rows:
        where = ", ".join(f"{codes.get(p.location_id, p.location_id)} {p.quantity}" for p in lot.locations) or "-"
        hold = f"held: {lot.hold_reason}" if lot.status == "held" else "released"
        print(f"{skus.get(lot.item_id, lot.item_id)}\t{lot.lot_no}\texpires {lot.expires_on or '-'}\t"
              f"on hand {lot.on_hand}\t{where}\t{hold}")
    if plan is not None:
        print(f"FEFO picks for {a.pick}:")
        for pick in plan.picks:
            print(f"  {pick.lot_no}\t{codes.get(pick.location_id, pick.location_id)}\t{pick.quantity}\t"
                  f"expires {pick.expires_on or '-'}")
        for skipped in plan.skipped:
            print(f"  (not {skipped.lot_no} at {codes.get(skipped.location_id, skipped.location_id)}: "
                  f"{skipped.reason})")
        if plan.short:
            print(f"  short {plan.short}")
    return 0


def _hold_or_release(name: str, struct: type, done: str):
    def command(client: EdgeClient, a: argparse.Namespace) -> int:
        with client.engine.begin() as conn:
            item_id = find_item(conn, a.item).id
        seq = client.run(name, struct(site_id=client.identity.site_id, item_id=item_id, lot_no=a.lot,
                                      reason=a.reason), user=a.user)
        print(f"{done} lot {a.lot} of {a.item} (mutation #{seq}, pending sync)")
        return 0

    return command


cmd_hold_lot = _hold_or_release("inventory.hold_lot", HoldLot, "held")
cmd_release_lot = _hold_or_release("inventory.release_lot", ReleaseLot, "released")


def add_lot_commands(sub: argparse._SubParsersAction) -> None:
    lots = sub.add_parser("lots", help="this site's lots, earliest expiry first, with FEFO picks (--pick)")
    lots.add_argument("--item", help="SKU, barcode or id")
    lots.add_argument("--held", action="store_true", help="only held lots")
    lots.add_argument("--pick", type=_decimal, metavar="QTY", help="suggest FEFO picks of QTY (needs --item)")
    lots.set_defaults(handler=_with_client(cmd_lots))
    for name, help_text, handler in (("hold-lot", "put a lot on hold: it may not be picked", cmd_hold_lot),
                                     ("release-lot", "release a held lot", cmd_release_lot)):
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("--item", required=True, help="SKU, barcode or id")
        parser.add_argument("--lot", required=True)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--user", help="who is acting; default: the user signed in on this device")
        parser.set_defaults(handler=_with_client(handler))
