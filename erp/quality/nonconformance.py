"""Nonconformances (不合格品处理单): goods found not to conform, and what is decided about them.

A failed inspection result raises one automatically (its id derives from the result's, so the
device and the server raise the same one and a replay raises none); a QC inspector may raise
one by hand (``quality.raise_ncr``) for what no plan caught. A nonconformance for a lot found at
``incoming`` or ``final`` inspection puts the lot on hold (``erp.inventory.lot.place_hold``:
held lots cannot be picked or issued) until the decision lets the goods back.

States (``TRANSITIONS``; ``transition`` applies one or raises ``TransitionForbidden``)::

    open ──disposition──▶ dispositioned ──close──▶ closed

Dispositions (处置), decided by a person against the state the server has now:

- ``use_as_is`` (让步接收): the lot is released at once; closing only records that it is done;
- ``rework`` (返工): the lot stays held while it is reworked; closing means rework is done, and
  releases it;
- ``scrap`` (报废): posts a stock ``issue`` of the scrapped quantity of the lot at the location
  named (reference ``NCR <id> scrap``, the nonconformance as document); closing releases what
  is left of the lot (pieces sorted out as good);
- ``return_to_supplier`` (退供应商), incoming only: records the decision. The goods leave
  through the dock's own ``purchasing.return_to_supplier`` (a physical fact, with its own stock
  move, recorded when the truck is loaded, against the PO line of ``source_id``'s receipt);
  closing releases the hold on whatever of the lot remains.

A lot is released only when no other unclosed nonconformance still holds it.

Invariants:
- One nonconformance per failed result (``ncr_id_for``); ``result_id`` is None for one raised
  by hand.
- ``held`` says whether this nonconformance keeps its lot held (it placed the hold, or found the
  lot already held); only those release one. Holding a lot already held changes nothing, so a
  second failed inspection of a held lot is recorded, not refused.
- Nonconformances are derived rows: devices may raise and decide them optimistically, the
  server's transition is the one that stands.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import Boolean, Column, Index, String, Table, Text, select

from erp.inventory.lot import is_held, place_hold, release_hold
from erp.inventory.stock_move import check_quantity, post_move, require_location
from erp.quality import errors
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]
Disposition = Literal["rework", "scrap", "use_as_is", "return_to_supplier"]
DISPOSITIONS = ("rework", "scrap", "use_as_is", "return_to_supplier")
HOLDING_STAGES = ("incoming", "final")

_NCR_IDS = uuid.UUID("5f7c2d1e-93a4-4b6e-8c0d-2a1f6e9b7c34")

nonconformances = Table(
    "nonconformances",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("result_id", ID, unique=True),  # the failed result that raised it; None: raised by hand
    Column("stage", String(16), nullable=False),  # incoming | in_process | final
    Column("item_id", ID, nullable=False),
    Column("lot_no", String(64)),
    Column("source_id", ID),  # po_receipts id or work order id, as on the result
    Column("quantity", DecimalType),  # the lot quantity concerned, when known
    Column("description", Text, nullable=False),  # what is wrong: failed characteristics, or words
    Column("status", String(16), nullable=False),  # open | dispositioned | closed
    Column("held", Boolean, nullable=False),  # this nonconformance placed a hold on the lot
    Column("disposition", String(24)),  # one of DISPOSITIONS, once decided
    Column("disposition_quantity", DecimalType),  # scrap: the quantity issued
    Column("disposition_note", Text),
    Column("scrap_move_id", ID),  # scrap: the stock issue it posted
    Column("raised_at", UtcDateTime, nullable=False),
    Column("raised_by", String(120)),
    Column("dispositioned_at", UtcDateTime),
    Column("dispositioned_by", String(120)),
    Column("closed_at", UtcDateTime),
    Column("closed_by", String(120)),
    version_column(),
    Index("ix_nonconformances_site_key", "site_id", "id"),
    Index("ix_nonconformances_item_lot", "item_id", "lot_no"),
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"dispositioned"}),
    "dispositioned": frozenset({"closed"}),
    "closed": frozenset(),
}


class TransitionForbidden(Exception):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a {current} nonconformance cannot become {target}")
        self.current, self.target = current, target


def transition(current: str, target: str) -> str:
    """The new state, or ``TransitionForbidden``."""
    if target not in TRANSITIONS[current]:
        raise TransitionForbidden(current, target)
    return target


def hold(ctx: MutationContext, *, site_id: str, item_id: str, lot_no: str, reason: str) -> None:
    """Put the lot on hold unless it already is."""
    if not is_held(ctx, site_id=site_id, item_id=item_id, lot_no=lot_no):
        place_hold(ctx, site_id=site_id, item_id=item_id, lot_no=lot_no, reason=reason)


def release_if_held(ctx: MutationContext, *, site_id: str, item_id: str, lot_no: str, reason: str) -> None:
    """Lift the hold on the lot if there is one (someone may have released it by hand)."""
    if is_held(ctx, site_id=site_id, item_id=item_id, lot_no=lot_no):
        release_hold(ctx, site_id=site_id, item_id=item_id, lot_no=lot_no, reason=reason)


def ncr_id_for(result_id: str) -> str:
    """The id of the nonconformance a failed result raises: the same on every side."""
    return str(uuid.uuid5(_NCR_IDS, result_id))


def _raise(ctx: MutationContext, *, ncr_id: str, result_id: str | None, site_id: str, stage: str, item_id: str,
           lot_no: str | None, source_id: str | None, quantity: Decimal | None, description: str,
           hold_lot: bool) -> None:
    held = hold_lot and lot_no is not None
    ctx.insert(nonconformances, {
        "id": ncr_id, "site_id": site_id, "result_id": result_id, "stage": stage, "item_id": item_id,
        "lot_no": lot_no, "source_id": source_id, "quantity": quantity, "description": description,
        "status": "open", "held": held, "raised_at": datetime.now(timezone.utc), "raised_by": ctx.actor.user,
    })
    if held:
        hold(ctx, site_id=site_id, item_id=item_id, lot_no=lot_no, reason=f"NCR {ncr_id}: {description}")


def raise_for_result(ctx: MutationContext, *, result_id: str, site_id: str, stage: str, item_id: str,
                     lot_no: str | None, source_id: str | None, quantity: Decimal | None,
                     failed: tuple[str, ...]) -> None:
    """Raise the nonconformance of a failed result, holding its lot at incoming and final."""
    _raise(ctx, ncr_id=ncr_id_for(result_id), result_id=result_id, site_id=site_id, stage=stage, item_id=item_id,
           lot_no=lot_no, source_id=source_id, quantity=quantity,
           description="failed: " + ", ".join(failed), hold_lot=stage in HOLDING_STAGES)


def require_ncr(ctx: MutationContext, ncr_id: str) -> Any:
    row = ctx.get(nonconformances, id=ncr_id)
    if row is None:
        ctx.reject(errors.UNKNOWN_NCR, "this nonconformance does not exist", ncr_id=ncr_id)
    return row


def _move_to(ctx: MutationContext, ncr: Any, target: str) -> str:
    try:
        return transition(ncr["status"], target)
    except TransitionForbidden as refused:
        ctx.reject(errors.TRANSITION_FORBIDDEN, str(refused), ncr_id=ncr["id"], status=ncr["status"], wanted=target)


def _release(ctx: MutationContext, ncr: Any) -> None:
    """Release the lot this nonconformance held, unless another unclosed one still holds it."""
    if not ncr["held"]:
        return
    others = ctx.conn.execute(select(nonconformances.c.id, nonconformances.c.disposition).where(
        nonconformances.c.site_id == ncr["site_id"], nonconformances.c.item_id == ncr["item_id"],
        nonconformances.c.lot_no == ncr["lot_no"], nonconformances.c.held.is_(True),
        nonconformances.c.status != "closed", nonconformances.c.id != ncr["id"])).all()
    if any(other.disposition != "use_as_is" for other in others):
        return
    release_if_held(ctx, site_id=ncr["site_id"], item_id=ncr["item_id"], lot_no=ncr["lot_no"],
                    reason=f"NCR {ncr['id']}: {ncr['disposition'] or 'closed'}")


class RaiseNcr(msgspec.Struct, frozen=True):
    ncr_id: str
    site_id: str
    stage: Literal["incoming", "in_process", "final"]
    item_id: str
    description: str
    lot_no: str | None = None
    source_id: str | None = None
    quantity: Decimal | None = None
    hold: bool = True  # hold the lot (incoming and final, with a lot number)


class DispositionNcr(msgspec.Struct, frozen=True):
    ncr_id: str
    disposition: Disposition
    note: str = ""
    quantity: Decimal | None = None  # scrap: how much; None: the nonconformance's quantity
    location_id: str | None = None  # scrap: where the scrapped goods are
    move_id: str | None = None  # scrap: id of the stock issue to post
    occurred_at: UtcMoment | None = None  # scrap: when it was scrapped; None: now


class CloseNcr(msgspec.Struct, frozen=True):
    ncr_id: str
    note: str = ""


@mutation("quality.raise_ncr", 1, RaiseNcr)
def raise_ncr(ctx: MutationContext, args: RaiseNcr) -> None:
    """Raise a nonconformance by hand, for what no inspection plan caught."""
    if not args.description.strip():
        ctx.reject(errors.REASON_REQUIRED, "say what is wrong with the goods")
    if args.quantity is not None:
        check_quantity(ctx, args.quantity)
    if ctx.get(nonconformances, id=args.ncr_id) is not None:
        return  # raised before: a replay
    _raise(ctx, ncr_id=args.ncr_id, result_id=None, site_id=args.site_id, stage=args.stage, item_id=args.item_id,
           lot_no=args.lot_no, source_id=args.source_id, quantity=args.quantity, description=args.description,
           hold_lot=args.hold and args.stage in HOLDING_STAGES)


@mutation("quality.disposition_ncr", 1, DispositionNcr)
def disposition_ncr(ctx: MutationContext, args: DispositionNcr) -> None:
    """Decide what happens to nonconforming goods: rework, scrap, use as is, return to supplier."""
    ncr = require_ncr(ctx, args.ncr_id)
    status = _move_to(ctx, ncr, "dispositioned")
    if args.disposition == "return_to_supplier" and ncr["stage"] != "incoming":
        ctx.reject(errors.DISPOSITION_NOT_ALLOWED, "only purchased goods found at incoming inspection go back "
                   "to the supplier", ncr_id=ncr["id"], stage=ncr["stage"])
    now = datetime.now(timezone.utc)
    changes: dict[str, Any] = {"status": status, "disposition": args.disposition,
                               "disposition_note": args.note or None, "dispositioned_at": now,
                               "dispositioned_by": ctx.actor.user}
    if args.disposition == "scrap":
        quantity = args.quantity if args.quantity is not None else ncr["quantity"]
        if quantity is None or args.location_id is None or args.move_id is None:
            ctx.reject(errors.SCRAP_NEEDS_LOCATION, "scrapping needs a quantity, a location and a move id",
                       ncr_id=ncr["id"])
        check_quantity(ctx, quantity)
        location = require_location(ctx, args.location_id)
        if location["site_id"] != ncr["site_id"]:
            ctx.reject(errors.SITE_MISMATCH, "the scrapped goods are at another site", location_id=location["id"])
        post_move(ctx, move_id=args.move_id, kind="issue", item_id=ncr["item_id"], location=location,
                  quantity=-quantity, occurred_at=args.occurred_at or now, reference=f"NCR {ncr['id']} scrap",
                  document_id=ncr["id"], lot_no=ncr["lot_no"],
                  may_move_held=True)  # scrapping is what is done with a held lot
        changes.update(disposition_quantity=quantity, scrap_move_id=args.move_id)
    ctx.update(nonconformances, {"id": ncr["id"]}, changes, current=ncr)
    if args.disposition == "use_as_is":
        _release(ctx, {**ncr, **changes})


@mutation("quality.close_ncr", 1, CloseNcr)
def close_ncr(ctx: MutationContext, args: CloseNcr) -> None:
    """Close a dispositioned nonconformance once its decision is carried out (rework done...)."""
    ncr = require_ncr(ctx, args.ncr_id)
    status = _move_to(ctx, ncr, "closed")
    note = "\n".join(filter(None, [ncr["disposition_note"], args.note])) or None
    changes = {"status": status, "closed_at": datetime.now(timezone.utc), "closed_by": ctx.actor.user,
               "disposition_note": note}
    ctx.update(nonconformances, {"id": ncr["id"]}, changes, current=ncr)
    if ncr["disposition"] != "use_as_is":
        _release(ctx, {**ncr, **changes})
