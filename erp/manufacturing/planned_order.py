"""Planned orders: what an MRP run proposes to buy or make, what each proposal is for (its
pegging), and what the planner did with it.

States (``TRANSITIONS``; ``change_status`` applies one or raises ``InvalidTransition``)::

    proposed ──convert──▶ converted      (a draft purchase order or a planned work order exists)
        │
        └──discard──▶ discarded          (a later run replaced it, or the planner dropped it)

- A new run is regenerative: it discards every proposal of the site still ``proposed`` and
  proposes afresh. Converted proposals stay, pointing at their document; the run already
  counts that document as supply (an open purchase or work order).
- ``converted`` and ``discarded`` are final: converting twice creates nothing the second time.

The tables are HQ planning data, server-only (no device plans; the documents a conversion
creates replicate as usual), written with plain SQL on the caller's connection.

Invariants:
- a planned order's pegs sum to its quantity (the calculator's invariant, stored as is);
- ``converted_document_id`` is set exactly when the status is ``converted``;
- a peg naming another planned order (``source`` = ``planned_order``) names one of the same run.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Boolean, Column, Connection, ForeignKey, Index, Integer, String, Table, select, update

from erp.manufacturing import errors
from erp.manufacturing.errors import InvalidTransition
from sync.schema import ID, metadata
from sync.types import DecimalType, UtcDateTime

planned_orders = Table(
    "planned_orders",
    metadata,
    Column("id", ID, primary_key=True),
    Column("run_id", ID, ForeignKey("mrp_runs.id"), nullable=False, index=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # purchase | make
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("quantity", DecimalType, nullable=False),
    Column("release_date", String(10), nullable=False),  # ISO dates: when to order or start
    Column("due_date", String(10), nullable=False),  # when the quantity must be in stock
    Column("past_due", Boolean, nullable=False),  # the release date was before the run date
    Column("plan_ref", String(120), nullable=False),  # the calculator's id: "<item>@<date>#<n>"
    Column("status", String(12), nullable=False),  # proposed | converted | discarded
    Column("converted_document_id", ID),  # the purchase order or work order it became
    Column("decided_at", UtcDateTime),  # converted or discarded
    Column("decided_by", String(120)),
    Index("ix_planned_orders_site_status", "site_id", "status"),
)

planned_order_pegs = Table(
    "planned_order_pegs",
    metadata,
    Column("planned_order_id", ID, ForeignKey("planned_orders.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    # What the quantity is for (``pegging.PegSource``): demand, planned_order, safety_stock,
    # negative_on_hand, lot_size_excess.
    Column("source", String(20), nullable=False),
    # demand: "sales_order_line:<id>", "forecast:<id>" or "work_order_material:<order>/<line>";
    # planned_order: the parent planned order's id; otherwise the item id.
    Column("demand_ref", String(120), nullable=False),
    Column("quantity", DecimalType, nullable=False),
)

TRANSITIONS: dict[str, dict[str, str]] = {
    "proposed": {"convert": "converted", "discard": "discarded"},
    "converted": {},
    "discarded": {},
}


def change_status(status: str, event: str) -> str:
    """The status after ``event``, or ``InvalidTransition`` (never skipped silently)."""
    target = TRANSITIONS[status].get(event)
    if target is None:
        raise InvalidTransition(f"a {status} planned order cannot {event}", status=status, event=event)
    return target


def mark(conn: Connection, planned_order_ids: list[str], event: str, *, user: str | None,
         document_id: str | None = None) -> None:
    """Apply ``event`` to each order (all or none: the first refusal raises)."""
    rows = conn.execute(select(planned_orders.c.id, planned_orders.c.status)
                        .where(planned_orders.c.id.in_(planned_order_ids))).all()
    found = {row.id: row.status for row in rows}
    missing = sorted(set(planned_order_ids) - set(found))
    if missing:
        raise InvalidTransition("no such planned order", code=errors.UNKNOWN_PLANNED_ORDER, ids=missing)
    now = datetime.now(timezone.utc)
    for planned_order_id in planned_order_ids:
        target = change_status(found[planned_order_id], event)
        conn.execute(update(planned_orders).where(planned_orders.c.id == planned_order_id).values(
            status=target, converted_document_id=document_id if target == "converted" else None,
            decided_at=now, decided_by=user))


def discard_proposals(conn: Connection, site_id: str, *, user: str | None) -> int:
    """Discard every proposal of the site still open; returns how many (a new run replaces them)."""
    result = conn.execute(update(planned_orders)
                          .where(planned_orders.c.site_id == site_id, planned_orders.c.status == "proposed")
                          .values(status=change_status("proposed", "discard"), decided_at=datetime.now(timezone.utc),
                                  decided_by=user))
    return result.rowcount


def proposals(conn: Connection, ids: list[str] | None = None, *, site_id: str | None = None) -> list[Any]:
    """Planned orders by id, or a site's open proposals, by item and due date."""
    query = select(planned_orders)
    if ids is not None:
        query = query.where(planned_orders.c.id.in_(ids))
    else:
        query = query.where(planned_orders.c.site_id == site_id, planned_orders.c.status == "proposed")
    return list(conn.execute(query.order_by(planned_orders.c.item_id, planned_orders.c.due_date,
                                            planned_orders.c.id)).mappings())
