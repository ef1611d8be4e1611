"""Completion with backflush (完工入库 + 倒冲): good units of a work order reported finished.

One mutation, one transaction, all stock moves in the inventory ledger with the order as
``document_id``:

1. for every requirement line flagged ``backflush``, a ``wo_backflush`` move takes
   ``completed quantity × gross quantity per unit`` (scrap allowance included, rounded up to 9
   decimals) from the order's line-side location, and the line's ``issued_quantity`` grows by it;
2. a ``wo_receipt`` move receives the completed quantity of the product at the order's
   finished-goods location (or the one the completion names, of the same site);
3. the order's ``completed_quantity`` grows by it; a released order starts, and an order in
   progress that reaches its planned quantity is completed.

Components that are not backflushed are issued by hand (``material_issue.py``). Negative stock
of a backflushed component follows its warehouse's policy (flag by default, so the completion
is applied and an inventory exception raised; ``reject`` refuses the whole completion).

A completion is a physical fact: against a planned, cancelled or closed order it is applied and
raises a work-order exception; against a completed order it adds to the completed quantity
(over-production is for the supervisor to see, not for the tablet to hide).

Move ids derive from the completion id (UUIDv5), so the device and the server write the same
moves and a replayed completion appends nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from erp.inventory.stock_move import post_move
from erp.manufacturing.checks import EXACT, ceil_9, check_quantity
from erp.manufacturing.work_order import fact_status, require_site_location, require_work_order, wo_materials, work_orders
from erp.manufacturing.work_order_status import transition
from sync.context import MutationContext
from sync.registry import mutation

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

_MOVE_IDS = uuid.UUID("8b0f4a52-2f0e-4c55-b1f4-3c7d1e9a6d20")


def completion_move_id(completion_id: str, leg: str) -> str:
    """The id of one move of a completion: ``leg`` is ``receipt`` or a requirement line number."""
    return str(uuid.uuid5(_MOVE_IDS, f"{completion_id}/{leg}"))


def backflush_quantity(completed: Decimal, gross_quantity_per: Decimal) -> Decimal:
    """What a completion consumes of a backflushed component: rounded up to 9 decimals."""
    return ceil_9(EXACT.multiply(completed, gross_quantity_per))


class ReportCompletion(msgspec.Struct, frozen=True):
    completion_id: str
    work_order_id: str
    quantity: Decimal  # good units finished
    occurred_at: UtcMoment
    receipt_location_id: str | None = None  # None: the order's finished-goods location
    note: str | None = None


@mutation("manufacturing.report_completion", 1, ReportCompletion)
def report_completion(ctx: MutationContext, args: ReportCompletion) -> None:
    """Report good units finished: backflush their components and receive them into stock."""
    check_quantity(ctx, args.quantity)
    work_order = require_work_order(ctx, args.work_order_id)
    site_id = work_order["site_id"]
    receipt_location = require_site_location(ctx, args.receipt_location_id or work_order["receipt_location_id"],
                                             site_id)
    reference = work_order["number"] if not args.note else f"{work_order['number']} {args.note}"
    receipt_id = completion_move_id(args.completion_id, "receipt")
    if not post_move(ctx, move_id=receipt_id, kind="wo_receipt", item_id=work_order["item_id"],
                     location=receipt_location, quantity=args.quantity, occurred_at=args.occurred_at,
                     reference=reference, document_id=work_order["id"]):
        return  # recorded before: its moves and effects are in place
    issue_location: Any = None
    for line_no in range(1, work_order["material_lines"] + 1):
        line = ctx.get(wo_materials, work_order_id=work_order["id"], line_no=line_no)
        if line is None or not line["backflush"]:
            continue
        if issue_location is None:
            issue_location = require_site_location(ctx, work_order["issue_location_id"], site_id)
        consumed = backflush_quantity(args.quantity, line["gross_quantity_per"])
        post_move(ctx, move_id=completion_move_id(args.completion_id, str(line_no)), kind="wo_backflush",
                  item_id=line["item_id"], location=issue_location, quantity=-consumed,
                  occurred_at=args.occurred_at, reference=reference, document_id=work_order["id"])
        ctx.update(wo_materials, {"work_order_id": work_order["id"], "line_no": line_no},
                   {"issued_quantity": line["issued_quantity"] + consumed}, current=line)

    completed = work_order["completed_quantity"] + args.quantity
    changes: dict[str, Any] = {"completed_quantity": completed}
    status = fact_status(ctx, work_order, ref=args.completion_id)
    if status == "in_progress" and completed >= work_order["quantity"]:
        status = transition(status, "complete")
        changes["completed_at"] = args.occurred_at
    if status != work_order["status"]:
        changes["status"] = status
    ctx.update(work_orders, {"id": work_order["id"]}, changes, current=work_order)
