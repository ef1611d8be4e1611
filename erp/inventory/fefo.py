"""FEFO (先到期先出): which lots to pick for a quantity, earliest expiry first.

``plan_picks`` is a pure calculator over a site's lot stock (``lot_on_hand`` rows with their
lot's expiry and hold status); ``suggest_picks`` reads those rows and calls it, for the HQ API
and the tablet's picking screens.

Rules (and the invariants the property tests check):
- Usable stock is picked in order of expiry, earliest first; a lot without expiry comes after
  every dated one; ties go by lot number, then location, so the plan does not depend on the
  order the rows were read in.
- A later-expiring row is picked only once every earlier-expiring usable row is used up.
- Held lots are skipped: a held lot cannot be picked (see ``lot``).
- Expired lots (expiry before ``today``; the expiry day itself is still usable) are skipped and
  reported: they are the earliest, so FEFO would otherwise send them out first, yet expired
  goods may not be shipped or consumed; they wait for a decision (scrap, return, re-test).
- The plan never picks more than a row holds, nor more than asked; what usable stock cannot
  cover is ``short``.

It is a suggestion: a picker who takes another lot records what they took, and it stands.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Iterable

import msgspec
from sqlalchemy import Connection, select

from erp.inventory.lot import lot_on_hand, lots


class LotStock(msgspec.Struct, frozen=True):
    """How much of one lot lies in one location, with what decides whether it may be picked."""

    lot_no: str
    location_id: str
    quantity: Decimal
    expires_on: date | None = None
    held: bool = False


class Pick(msgspec.Struct, frozen=True):
    lot_no: str
    location_id: str
    quantity: Decimal
    expires_on: date | None = None


class Skipped(msgspec.Struct, frozen=True):
    lot_no: str
    location_id: str
    quantity: Decimal
    reason: str  # held | expired
    expires_on: date | None = None


class PickPlan(msgspec.Struct, frozen=True):
    picks: list[Pick]
    short: Decimal  # what the usable stock cannot cover; 0 when the plan covers the quantity
    skipped: list[Skipped]  # stock on hand that was not considered, and why


def _order(row: LotStock) -> tuple:
    return (row.expires_on is None, row.expires_on or date.min, row.lot_no, row.location_id)


def plan_picks(stock: Iterable[LotStock], quantity: Decimal | None, *, today: date) -> PickPlan:
    """The FEFO picks for ``quantity`` out of ``stock`` on ``today`` (see the module rules).

    ``quantity`` None: every usable row, in pick order (what a picking list shows).
    """
    remaining = Decimal(0) if quantity is None or quantity < 0 else quantity
    picks: list[Pick] = []
    skipped: list[Skipped] = []
    for row in sorted((row for row in stock if row.quantity > 0), key=_order):
        if row.held or (row.expires_on is not None and row.expires_on < today):
            skipped.append(Skipped(row.lot_no, row.location_id, row.quantity, "held" if row.held else "expired",
                                   row.expires_on))
            continue
        if quantity is None:
            picks.append(Pick(row.lot_no, row.location_id, row.quantity, row.expires_on))
            continue
        if remaining == 0:
            continue
        taken = min(row.quantity, remaining)
        picks.append(Pick(row.lot_no, row.location_id, taken, row.expires_on))
        remaining -= taken
    return PickPlan(picks=picks, short=remaining, skipped=skipped)


def lot_stock(conn: Connection, *, site_id: str, item_id: str, location_id: str | None = None) -> list[LotStock]:
    """The site's positive lot stock of an item, with each lot's expiry and hold status."""
    query = (
        select(lot_on_hand.c.lot_no, lot_on_hand.c.location_id, lot_on_hand.c.quantity, lots.c.expires_on,
               lots.c.status)
        .select_from(lot_on_hand.outerjoin(lots, (lots.c.site_id == lot_on_hand.c.site_id)
                                           & (lots.c.item_id == lot_on_hand.c.item_id)
                                           & (lots.c.lot_no == lot_on_hand.c.lot_no)))
        .where(lot_on_hand.c.site_id == site_id, lot_on_hand.c.item_id == item_id)
    )
    if location_id is not None:
        query = query.where(lot_on_hand.c.location_id == location_id)
    # Compared here, not in SQL: SQLite keeps decimals as text, which does not compare as numbers.
    return [LotStock(r.lot_no, r.location_id, r.quantity, r.expires_on, r.status == "held")
            for r in conn.execute(query) if r.quantity > 0]


def suggest_picks(conn: Connection, *, site_id: str, item_id: str, quantity: Decimal | None,
                  location_id: str | None = None, today: date | None = None) -> PickPlan:
    """FEFO picks of an item at a site (optionally from one location), as of ``today`` (UTC)."""
    today = today or datetime.now(timezone.utc).date()
    return plan_picks(lot_stock(conn, site_id=site_id, item_id=item_id, location_id=location_id), quantity,
                      today=today)
