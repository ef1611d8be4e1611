"""Inspection results (检验记录): what an inspector measured, recorded on a tablet, offline if need be.

``quality.record_result`` (version 1) is the device mutation. Its arguments (``RecordResult``):

- ``result_id``: a new id, made on the device (a replay appends nothing);
- ``plan_id``: the plan version inspected against; ``stage`` and ``item_id`` repeat the plan's
  (a mismatch is refused: the tablet picked the wrong plan);
- ``site_id``: the inspecting site (the device's own);
- ``sample_size``: pieces inspected; ``lot_quantity``: the size of the lot they came from, when
  known (it decides a percentage sample, and is what a nonconformance concerns);
- ``measurements``: one ``Measurement`` per reading, ``characteristic`` named as in the plan with
  a Decimal ``value`` (measured) or ``ok`` true/false (attribute); several readings of one
  characteristic are one per piece;
- ``lot_no``: the lot inspected (批次); ``source_id``: the ``po_receipts`` id of a receipt
  (incoming), or the work order's id (in_process, final); ``operation_seq``: the routing
  operation (in_process; it may be left out, the plan names it, and a different one is refused);
- ``note``, ``occurred_at`` (device time, UTC), and ``supersedes_id`` to correct an earlier
  result. The inspector is the signed-in user (``ctx.actor.user``), never an argument.

The verdict is computed here by ``verdict.judge``, never sent by the device. A failed result
raises a nonconformance (nonconformance.py), which puts an incoming or final lot on hold.

A result is a physical fact: measured goods were measured. It is recorded even when HQ changed
what it concerns meanwhile, and ``flags`` says what: ``plan_inactive`` (the plan version was
revised or withdrawn), ``source_reversed`` (the receipt's stock move was reversed),
``source_closed`` (the work order or purchase order was cancelled or closed), ``source_unknown``
(the server does not know the document), ``sample_short`` (fewer pieces than the plan asks).
It is refused only when it cannot be judged: an unknown plan, a reading that names no
characteristic of the plan or has the wrong form, a characteristic with no reading.

Invariants:
- ``inspection_results`` is a ledger: appended once per id, never changed. A correction is a
  new result whose ``supersedes_id`` points at the original; a result is superseded at most once
  (unique column); the latest result of a chain is the inspection's outcome.
- ``verdict`` is ``judge(plan characteristics, measurements)`` of the plan version named.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, select

from erp.inventory.stock_move import stock_moves
from erp.manufacturing.work_order import work_orders
from erp.org.site import sites
from erp.purchasing.goods_receipt import po_receipts
from erp.purchasing.purchase_order import purchase_orders
from erp.quality import errors
from erp.quality.nonconformance import raise_for_result
from erp.quality.plan import Stage, characteristics_of, require_plan
from erp.quality.verdict import Reading, judge, required_sample
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

FLAGS = ("plan_inactive", "source_reversed", "source_closed", "source_unknown", "sample_short")

inspection_results = Table(
    "inspection_results",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("plan_id", ID, nullable=False, index=True),  # the plan version judged against
    Column("stage", String(16), nullable=False),  # incoming | in_process | final
    Column("item_id", ID, nullable=False),
    Column("lot_no", String(64)),
    Column("source_id", ID),  # po_receipts id (incoming) or work order id (in_process, final)
    Column("operation_seq", Integer),  # in_process: the routing operation
    Column("sample_size", Integer, nullable=False),
    Column("lot_quantity", DecimalType),  # the lot the sample came from, when known
    Column("verdict", String(8), nullable=False),  # pass | fail
    Column("failed", Text),  # failing characteristics, comma-separated
    Column("measurements_json", Text, nullable=False),  # [{"characteristic", "value" | "ok"}], as recorded
    Column("flags", String(200)),  # comma-separated FLAGS; None: nothing changed meanwhile
    Column("supersedes_id", ID, unique=True),  # unique: a result is corrected at most once
    Column("note", Text),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("inspector", String(120)),  # the signed-in user who recorded it
    Column("device_id", ID),
    Column("seq", BigInteger),
    Column("hlc", String(64), nullable=False),
    version_column(),
    Index("ix_inspection_results_site_key", "site_id", "id"),
    Index("ix_inspection_results_source", "source_id"),
    Index("ix_inspection_results_item_lot", "item_id", "lot_no"),
)


class Measurement(msgspec.Struct, frozen=True):
    """One reading: ``value`` for a measured characteristic, ``ok`` for an attribute."""

    characteristic: str
    value: Decimal | None = None
    ok: bool | None = None


class RecordResult(msgspec.Struct, frozen=True):
    result_id: str
    plan_id: str
    stage: Stage
    item_id: str
    site_id: str
    sample_size: int
    measurements: list[Measurement]
    occurred_at: UtcMoment
    lot_no: str | None = None
    source_id: str | None = None  # po_receipts id (incoming) or work order id (in_process, final)
    operation_seq: int | None = None  # in_process: the routing operation's sequence
    lot_quantity: Decimal | None = None
    note: str | None = None
    supersedes_id: str | None = None  # the result this one corrects


def _source_flags(ctx: MutationContext, args: RecordResult) -> tuple[list[str], str | None]:
    """What HQ changed about the inspected document, and the lot the document names."""
    if args.source_id is None:
        return [], None
    if args.stage == "incoming":
        receipt = ctx.conn.execute(select(po_receipts).where(po_receipts.c.id == args.source_id)).mappings().first()
        if receipt is None:
            return ["source_unknown"], None
        flags = []
        move = ctx.conn.execute(select(stock_moves.c.lot_no).where(stock_moves.c.id == receipt["move_id"])).first()
        reversal = ctx.conn.execute(select(stock_moves.c.id).where(stock_moves.c.reverses_id == receipt["move_id"]))
        if reversal.first() is not None:
            flags.append("source_reversed")
        po = ctx.get(purchase_orders, id=receipt["po_id"])
        if po is not None and po["status"] in ("cancelled", "closed"):
            flags.append("source_closed")
        return flags, move.lot_no if move is not None else None
    work_order = ctx.get(work_orders, id=args.source_id)
    if work_order is None:
        return ["source_unknown"], None
    return (["source_closed"] if work_order["status"] in ("cancelled", "closed") else []), None


def _check_supersedes(ctx: MutationContext, args: RecordResult) -> None:
    if args.supersedes_id is None:
        return
    original = ctx.conn.execute(select(inspection_results.c.id)
                                .where(inspection_results.c.id == args.supersedes_id)).first()
    if original is None:
        ctx.reject(errors.UNKNOWN_RESULT, "the result to correct does not exist", result_id=args.supersedes_id)
    later = ctx.conn.execute(select(inspection_results.c.id)
                             .where(inspection_results.c.supersedes_id == args.supersedes_id)).first()
    if later is not None and later.id != args.result_id:
        ctx.reject(errors.ALREADY_SUPERSEDED, "this result was already corrected; correct the correction",
                   result_id=args.supersedes_id, superseded_by=later.id)


@mutation("quality.record_result", 1, RecordResult)
def record_result(ctx: MutationContext, args: RecordResult) -> None:
    """Record an inspection's measurements; the verdict is computed, a failure raises a nonconformance."""
    plan = require_plan(ctx, args.plan_id)
    if plan["stage"] != args.stage:
        ctx.reject(errors.STAGE_MISMATCH, f"plan {plan['code']} is for {plan['stage']} inspection",
                   plan_id=plan["id"], stage=args.stage)
    if plan["item_id"] != args.item_id:
        ctx.reject(errors.ITEM_MISMATCH, f"plan {plan['code']} is for another item", plan_id=plan["id"])
    if args.operation_seq is not None and args.operation_seq != plan["operation_seq"]:
        ctx.reject(errors.STAGE_MISMATCH, f"plan {plan['code']} is for operation {plan['operation_seq']}",
                   plan_id=plan["id"], operation_seq=args.operation_seq)
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.SITE_MISMATCH, "this site does not exist", site_id=args.site_id)
    if args.sample_size < 1:
        ctx.reject(errors.INVALID_MEASUREMENT, "at least one piece is inspected", sample_size=args.sample_size)
    if args.lot_quantity is not None and (not args.lot_quantity.is_finite() or args.lot_quantity <= 0):
        ctx.reject(errors.INVALID_MEASUREMENT, f"{args.lot_quantity} is not a lot quantity")
    outcome = judge(characteristics_of(ctx, plan["id"]),
                    [Reading(m.characteristic, m.value, m.ok) for m in args.measurements])
    if outcome.problems:
        ctx.reject(errors.INVALID_MEASUREMENT, "; ".join(outcome.problems), problems=list(outcome.problems))
    if outcome.missing:
        ctx.reject(errors.MEASUREMENT_MISSING, "no reading for " + ", ".join(outcome.missing),
                   missing=list(outcome.missing))
    _check_supersedes(ctx, args)
    flags, source_lot = _source_flags(ctx, args)
    if not plan["active"]:
        flags.append("plan_inactive")
    required = required_sample(plan["sample_kind"], plan["sample_value"], args.lot_quantity)
    if required is not None and args.sample_size < required:
        flags.append("sample_short")
    lot_no = args.lot_no or source_lot
    if not ctx.insert_ledger(inspection_results, {
        "id": args.result_id, "site_id": args.site_id, "plan_id": plan["id"], "stage": args.stage,
        "item_id": args.item_id, "lot_no": lot_no, "source_id": args.source_id, "operation_seq": plan["operation_seq"],
        "sample_size": args.sample_size, "lot_quantity": args.lot_quantity, "verdict": outcome.verdict,
        "failed": ",".join(outcome.failed) or None,
        "measurements_json": msgspec.json.encode(args.measurements).decode(),
        "flags": ",".join(flags) or None, "supersedes_id": args.supersedes_id, "note": args.note,
        "occurred_at": args.occurred_at, "inspector": ctx.actor.user, "device_id": ctx.ref.device_id,
        "seq": ctx.ref.seq if ctx.ref.device_id else None, "hlc": ctx.ref.hlc,
    }):
        return  # recorded before: its nonconformance, if any, exists too
    if not outcome.passed:
        raise_for_result(ctx, result_id=args.result_id, site_id=args.site_id, stage=args.stage,
                         item_id=args.item_id, lot_no=lot_no, source_id=args.source_id,
                         quantity=args.lot_quantity, failed=outcome.failed)

