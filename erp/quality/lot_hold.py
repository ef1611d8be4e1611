"""Holding and releasing lots for quality reasons (质量冻结 / 解冻).

The hold itself is inventory's (``erp.inventory.lot``: a held lot cannot be picked or issued).
Quality places one when a nonconformance concerns a lot and lifts it when the decision lets the
goods back (nonconformance.py); ``quality.hold_lot`` / ``quality.release_lot`` let a QC
inspector do it by hand (a supplier's quality notice, a doubt about a lot no plan covers).

Invariants:
- ``quality.release_lot`` refuses to lift a hold an unclosed nonconformance keeps
  (``quality.lot_held_by_ncr``): that hold ends with the nonconformance's decision.
"""

from __future__ import annotations

from sqlalchemy import select

from erp.inventory.lot import HoldLot, ReleaseLot, place_hold, release_hold
from erp.quality import errors
from erp.quality.nonconformance import nonconformances
from sync.context import MutationContext
from sync.registry import mutation


def _check(ctx: MutationContext, args: HoldLot | ReleaseLot) -> None:
    if not args.lot_no.strip():
        ctx.reject(errors.LOT_REQUIRED, "name the lot (批次号)")
    if not args.reason.strip():
        ctx.reject(errors.REASON_REQUIRED, "say why")


@mutation("quality.hold_lot", 1, HoldLot)
def hold_lot(ctx: MutationContext, args: HoldLot) -> None:
    """Hold a lot for a quality reason: it cannot be picked or issued until released."""
    _check(ctx, args)
    place_hold(ctx, site_id=args.site_id, item_id=args.item_id, lot_no=args.lot_no, reason=args.reason)


@mutation("quality.release_lot", 1, ReleaseLot)
def release_lot(ctx: MutationContext, args: ReleaseLot) -> None:
    """Release a lot held for a quality reason; one a nonconformance holds ends with its decision."""
    _check(ctx, args)
    keeping = ctx.conn.execute(select(nonconformances.c.id).where(
        nonconformances.c.site_id == args.site_id, nonconformances.c.item_id == args.item_id,
        nonconformances.c.lot_no == args.lot_no, nonconformances.c.held.is_(True),
        nonconformances.c.status != "closed",
        nonconformances.c.disposition.is_distinct_from("use_as_is"))).first()
    if keeping is not None:
        ctx.reject(errors.LOT_HELD_BY_NCR, f"nonconformance {keeping.id} holds this lot: decide it instead",
                   ncr_id=keeping.id, lot_no=args.lot_no)
    release_hold(ctx, site_id=args.site_id, item_id=args.item_id, lot_no=args.lot_no, reason=args.reason)
