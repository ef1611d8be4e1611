"""Material for a work order: issue (领料), top-up (补料) and return (退料), as stock moves.

Each is one move in the inventory ledger (``inventory.stock_move.post_move``) at the order's
line-side location (or another location of its site), with ``document_id`` = the work order's
id and ``reference`` = its number, so the ledger shows which order consumed what. The move kinds
are manufacturing's own:

| kind           | quantity | written by                                              |
|----------------|----------|---------------------------------------------------------|
| ``wo_issue``     | −        | ``issue_material``: components picked for the order      |
| ``wo_top_up``    | −        | ``top_up_material``: more than planned (scrap, breakage) |
| ``wo_return``    | +        | ``return_material``: unused components back to stock     |
| ``wo_backflush`` | −        | ``completion.py``: components consumed by a completion   |
| ``wo_receipt``   | +        | ``completion.py``: finished goods received (完工入库)     |

Moves are physical facts: they are never refused for the order's state (see
``work_order.record_fact``), and negative stock follows the warehouse's policy (flag by
default). They are refused only for what the device can see is wrong at once: an unknown
order or location, a location of another site, an item that is not among the order's
requirements (``manufacturing.not_a_component``), a quantity that is not above zero.

Invariant: the order's ``wo_materials.issued_quantity`` of the item changes by the move's
quantity (negated) in the same transaction; a return that takes the item's net issue below zero
is applied and raises an ``over_return`` exception.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Mapping

import msgspec
from sqlalchemy import select

from erp.inventory.stock_move import post_move
from erp.manufacturing import errors
from erp.manufacturing.checks import check_quantity
from erp.manufacturing.work_order import record_fact, require_site_location, require_work_order, wo_materials
from erp.manufacturing.work_order_exception import flag_work_order
from sync.context import MutationContext
from sync.registry import mutation

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

COMPONENT_MOVE_KINDS = ("wo_issue", "wo_top_up", "wo_return", "wo_backflush")
WORK_ORDER_MOVE_KINDS = (*COMPONENT_MOVE_KINDS, "wo_receipt")


class MaterialMove(msgspec.Struct, frozen=True):
    move_id: str
    work_order_id: str
    item_id: str
    quantity: Decimal  # positive: how much was picked, added or brought back
    occurred_at: UtcMoment
    location_id: str | None = None  # None: the order's line-side (issue) location
    reference: str | None = None  # a picking slip number, a note
    lot_no: str | None = None  # the lot picked, for lot-tracked components
    serial_no: str | None = None


def _lines_of(ctx: MutationContext, work_order_id: str, item_id: str) -> list[Mapping[str, Any]]:
    """The order's requirement lines for the item, the manually issued one first."""
    return list(ctx.conn.execute(
        select(wo_materials).where(wo_materials.c.work_order_id == work_order_id, wo_materials.c.item_id == item_id)
        .order_by(wo_materials.c.backflush, wo_materials.c.line_no)
    ).mappings())


def _move_material(ctx: MutationContext, args: MaterialMove, kind: str) -> None:
    check_quantity(ctx, args.quantity)
    work_order = require_work_order(ctx, args.work_order_id)
    lines = _lines_of(ctx, args.work_order_id, args.item_id)
    if not lines:
        ctx.reject(errors.NOT_A_COMPONENT, "this item is not among the work order's requirements",
                   item_id=args.item_id, work_order_id=args.work_order_id)
    location = require_site_location(ctx, args.location_id or work_order["issue_location_id"], work_order["site_id"])
    issued = args.quantity if kind != "wo_return" else -args.quantity
    reference = work_order["number"] if not args.reference else f"{work_order['number']} {args.reference}"
    appended = post_move(ctx, move_id=args.move_id, kind=kind, item_id=args.item_id, location=location,
                         quantity=-issued, occurred_at=args.occurred_at, reference=reference,
                         document_id=work_order["id"], lot_no=args.lot_no, serial_no=args.serial_no)
    if not appended:
        return  # this move is in the ledger already: its effects are too
    line = lines[0]
    ctx.update(wo_materials, {"work_order_id": line["work_order_id"], "line_no": line["line_no"]},
               {"issued_quantity": line["issued_quantity"] + issued}, current=line)
    if kind == "wo_return" and sum(row["issued_quantity"] for row in lines) + issued < 0:
        flag_work_order(ctx, work_order, kind="over_return", ref=args.move_id)
    record_fact(ctx, work_order, ref=args.move_id)


@mutation("manufacturing.issue_material", 1, MaterialMove)
def issue_material(ctx: MutationContext, args: MaterialMove) -> None:
    """Issue components to a work order (领料)."""
    _move_material(ctx, args, "wo_issue")


@mutation("manufacturing.top_up_material", 1, MaterialMove)
def top_up_material(ctx: MutationContext, args: MaterialMove) -> None:
    """Issue more components than planned to a work order (补料), e.g. to replace scrap."""
    _move_material(ctx, args, "wo_top_up")


@mutation("manufacturing.return_material", 1, MaterialMove)
def return_material(ctx: MutationContext, args: MaterialMove) -> None:
    """Return unused components from a work order to stock (退料)."""
    _move_material(ctx, args, "wo_return")
