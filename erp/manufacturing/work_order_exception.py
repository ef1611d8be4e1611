"""Work-order exceptions: physical facts recorded against an order that was not open for them,
raised for review rather than refused.

A tablet on the shop floor may be offline for hours. If HQ cancels or closes an order meanwhile,
the operators' reports, material moves and completions still happened: they are applied (the
stock moved, the hours were worked and count for piece rates) and the order's state does not
change. What to review is recorded here, like inventory exceptions for negative stock:

| kind             | raised by a fact against an order that is                                |
|------------------|--------------------------------------------------------------------------|
| ``before_release`` | still planned (not released to the floor)                              |
| ``after_cancel``   | cancelled                                                              |
| ``after_close``    | closed                                                                 |
| ``over_return``    | any state, when a return takes the order's net issue of an item below 0 |

While one is open for an (order, kind), further facts join it (``involved_json``) instead of
opening another.

States::

    open ──review──▶ reviewed
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import msgspec
from sqlalchemy import Column, Index, String, Table, Text, select

from erp.manufacturing import errors
from sync.context import MutationContext
from sync.ids import new_id
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import UtcDateTime

EXCEPTION_TRANSITIONS = {"open": frozenset({"reviewed"}), "reviewed": frozenset()}

wo_exceptions = Table(
    "wo_exceptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("work_order_id", ID, nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # before_release | after_cancel | after_close | over_return
    Column("order_status", String(16), nullable=False),  # the order's state when the first fact arrived
    # [{"device_id", "seq", "mutation", "ref"}, ...]: ref is the report, move or completion id
    Column("involved_json", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open | reviewed
    Column("raised_at", UtcDateTime, nullable=False),
    Column("review_note", Text),
    version_column(),
    Index("ix_wo_exceptions_site_version", "site_id", "_version"),
    Index("ix_wo_exceptions_site_key", "site_id", "id"),  # bootstrap reads a site in key order
)


def flag_work_order(ctx: MutationContext, work_order: Any, *, kind: str, ref: str) -> None:
    """Raise (or join) the open exception of ``kind`` for this order, naming this mutation."""
    involvement = {"device_id": ctx.ref.device_id, "seq": ctx.ref.seq, "mutation": ctx.ref.name, "ref": ref}
    existing = ctx.conn.execute(
        select(wo_exceptions).where(wo_exceptions.c.work_order_id == work_order["id"],
                                    wo_exceptions.c.kind == kind, wo_exceptions.c.status == "open")
    ).mappings().first()
    if existing is None:
        ctx.insert(wo_exceptions, {
            "id": new_id(), "site_id": work_order["site_id"], "work_order_id": work_order["id"], "kind": kind,
            "order_status": work_order["status"], "involved_json": json.dumps([involvement]), "status": "open",
            "raised_at": datetime.now(timezone.utc),
        })
        return
    involved = json.loads(existing["involved_json"]) + [involvement]
    ctx.update(wo_exceptions, {"id": existing["id"]}, {"involved_json": json.dumps(involved)}, current=existing)


class ReviewWorkOrderException(msgspec.Struct, frozen=True):
    exception_id: str
    note: str = ""


@mutation("manufacturing.review_exception", 1, ReviewWorkOrderException)
def review_exception(ctx: MutationContext, args: ReviewWorkOrderException) -> None:
    """Close a work-order exception after review, with a note."""
    row = ctx.get(wo_exceptions, id=args.exception_id)
    if row is None:
        ctx.reject(errors.UNKNOWN_EXCEPTION, "this exception does not exist", exception_id=args.exception_id)
    if "reviewed" not in EXCEPTION_TRANSITIONS[row["status"]]:
        ctx.reject(errors.EXCEPTION_CLOSED, f"this exception is already {row['status']}")
    ctx.update(wo_exceptions, {"id": args.exception_id}, {"status": "reviewed", "review_note": args.note}, current=row)
