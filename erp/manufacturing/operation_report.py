"""Operation reports (报工): what operators on the shop floor say they did, an append-only ledger.

A tablet at a work centre records, offline if need be, each operator's events on an operation
of a work order: ``start``, ``pause`` (with the good and scrap quantities made since the last
report, if any) and ``finish`` (with the quantities). Each report names the operator as text (a
user or employee name: piece-rate pay groups by it) and when it happened (device time, UTC).

From the reports of an operation the order's ``wo_operations`` row is recomputed with every
report (``summarize``): good and scrap quantities are sums; worked hours are, per operator, the
intervals from a ``start`` to the next ``pause`` or ``finish`` in time order (a ``start`` while
already running, or a ``pause`` while not, adds nothing); the state is the last report's.
Because it is a recomputation over the ledger, reports that arrive late or out of order from
an offline tablet give the same result as if they had arrived in order.

Invariants:
- Reports are never updated or deleted. A wrong one is corrected by a reversal
  (``reverse_report``, a supervisor's permission, not an operator's: reports are what operators
  are paid on): a row with event ``reversal``, the negated quantities and ``reverses_id``
  pointing at the original; a report is reversed at most once, and neither the reversed report
  nor its reversal counts for quantities, hours or state.
- Quantities are finite Decimals ≥ 0 with at most 9 decimals; the operator is not blank.
- Reports are physical facts: one against an order that is planned, cancelled or closed is
  recorded and raises a work-order exception (``work_order.record_fact``), never refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, select

from erp.manufacturing import errors
from erp.manufacturing.checks import NINE_DECIMALS, check_quantity, check_text
from erp.manufacturing.work_order import record_fact, require_work_order, wo_operations
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import version_column
from sync.types import DecimalType, UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]
ReportEvent = Literal["start", "pause", "finish"]

MICROSECONDS_PER_HOUR = 3_600_000_000
ZERO = Decimal(0)

wo_operation_reports = Table(
    "wo_operation_reports",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("work_order_id", ID, ForeignKey("work_orders.id"), nullable=False),
    Column("operation_seq", Integer, nullable=False),
    Column("event", String(16), nullable=False),  # start | pause | finish | reversal
    Column("good_quantity", DecimalType, nullable=False),
    Column("scrap_quantity", DecimalType, nullable=False),
    Column("operator", String(120), nullable=False),  # who did the work: piece rates group by it
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("reverses_id", ID, unique=True),  # unique: a report is reversed at most once
    Column("note", Text),
    Column("device_id", ID),
    Column("seq", BigInteger),  # the device mutation sequence that appended it
    Column("hlc", String(64), nullable=False),
    Column("user_name", String(120)),  # who recorded it (signed in on the tablet), maybe not the operator
    version_column(),
    Index("ix_wo_operation_reports_site_version", "site_id", "_version"),
    Index("ix_wo_operation_reports_site_key", "site_id", "id"),  # bootstrap reads a site in key order
    Index("ix_wo_operation_reports_operation", "work_order_id", "operation_seq"),
    Index("ix_wo_operation_reports_occurred_at", "occurred_at"),  # piece-rate periods
)


# -- the pure part --------------------------------------------------------------------------


class OperationEvent(msgspec.Struct, frozen=True):
    """A report as the summary reads it."""

    report_id: str
    operator: str
    event: str  # start | pause | finish
    occurred_at: datetime
    good_quantity: Decimal = ZERO
    scrap_quantity: Decimal = ZERO


class OperationSummary(msgspec.Struct, frozen=True):
    status: str  # pending | running | paused | finished
    good_quantity: Decimal
    scrap_quantity: Decimal
    worked_hours: Decimal  # rounded half-even to 9 decimals from whole microseconds
    last_report_at: datetime | None


_STATE_AFTER = {"start": "running", "pause": "paused", "finish": "finished"}


def _in_time_order(events: Iterable[OperationEvent]) -> list[OperationEvent]:
    return sorted(events, key=lambda e: (e.occurred_at, e.report_id))


def worked_microseconds(events: Iterable[OperationEvent]) -> int:
    """Time worked, summed over operators: each operator's start → pause/finish intervals."""
    total = 0
    open_since: dict[str, datetime] = {}
    for event in _in_time_order(events):
        if event.event == "start":
            open_since.setdefault(event.operator, event.occurred_at)
        elif event.operator in open_since:
            spent = event.occurred_at - open_since.pop(event.operator)
            total += (spent.days * 86_400 + spent.seconds) * 1_000_000 + spent.microseconds
    return total


def hours(microseconds: int) -> Decimal:
    return (Decimal(microseconds) / MICROSECONDS_PER_HOUR).quantize(NINE_DECIMALS, rounding=ROUND_HALF_EVEN)


def summarize(events: Iterable[OperationEvent]) -> OperationSummary:
    """The operation's quantities, worked hours and state from its (unreversed) reports."""
    ordered = _in_time_order(events)
    return OperationSummary(
        status=_STATE_AFTER[ordered[-1].event] if ordered else "pending",
        good_quantity=sum((e.good_quantity for e in ordered), ZERO),
        scrap_quantity=sum((e.scrap_quantity for e in ordered), ZERO),
        worked_hours=hours(worked_microseconds(ordered)),
        last_report_at=ordered[-1].occurred_at if ordered else None,
    )


# -- mutations ------------------------------------------------------------------------------


class ReportOperation(msgspec.Struct, frozen=True):
    report_id: str
    work_order_id: str
    operation_seq: int
    event: ReportEvent
    operator: str
    occurred_at: UtcMoment
    good_quantity: Decimal = ZERO
    scrap_quantity: Decimal = ZERO
    note: str | None = None


class ReverseReport(msgspec.Struct, frozen=True):
    reversal_id: str
    report_id: str
    occurred_at: UtcMoment
    reason: str


def counted_events(ctx: MutationContext, work_order_id: str, operation_seq: int) -> list[OperationEvent]:
    """The operation's reports that count: neither reversed nor reversals."""
    rows = ctx.conn.execute(select(wo_operation_reports).where(
        wo_operation_reports.c.work_order_id == work_order_id,
        wo_operation_reports.c.operation_seq == operation_seq)).mappings().all()
    reversed_ids = {row["reverses_id"] for row in rows if row["reverses_id"]}
    return [OperationEvent(row["id"], row["operator"], row["event"], row["occurred_at"], row["good_quantity"],
                           row["scrap_quantity"])
            for row in rows if row["event"] != "reversal" and row["id"] not in reversed_ids]


def _refresh_operation(ctx: MutationContext, operation: Any) -> None:
    summary = summarize(counted_events(ctx, operation["work_order_id"], operation["sequence"]))
    ctx.update(wo_operations, {"work_order_id": operation["work_order_id"], "sequence": operation["sequence"]}, {
        "status": summary.status, "good_quantity": summary.good_quantity, "scrap_quantity": summary.scrap_quantity,
        "worked_hours": summary.worked_hours, "last_report_at": summary.last_report_at,
    }, current=operation)


def _append(ctx: MutationContext, row: dict[str, Any]) -> bool:
    return ctx.insert_ledger(wo_operation_reports, {
        **row, "device_id": ctx.ref.device_id, "seq": ctx.ref.seq if ctx.ref.device_id else None,
        "hlc": ctx.ref.hlc, "user_name": ctx.actor.user,
    })


@mutation("manufacturing.report_operation", 1, ReportOperation)
def report_operation(ctx: MutationContext, args: ReportOperation) -> None:
    """Report an operator's start, pause or finish on an operation, with good and scrap quantities."""
    check_quantity(ctx, args.good_quantity, "good_quantity", positive=False)
    check_quantity(ctx, args.scrap_quantity, "scrap_quantity", positive=False)
    check_text(ctx, args.operator, "operator")
    work_order = require_work_order(ctx, args.work_order_id)
    operation = ctx.get(wo_operations, work_order_id=args.work_order_id, sequence=args.operation_seq)
    if operation is None:
        ctx.reject(errors.UNKNOWN_OPERATION, f"the work order has no operation {args.operation_seq}",
                   work_order_id=args.work_order_id, operation_seq=args.operation_seq)
    appended = _append(ctx, {
        "id": args.report_id, "site_id": work_order["site_id"], "work_order_id": args.work_order_id,
        "operation_seq": args.operation_seq, "event": args.event, "good_quantity": args.good_quantity,
        "scrap_quantity": args.scrap_quantity, "operator": args.operator.strip(), "occurred_at": args.occurred_at,
        "reverses_id": None, "note": args.note,
    })
    if appended:
        _refresh_operation(ctx, operation)
        record_fact(ctx, work_order, ref=args.report_id)


@mutation("manufacturing.reverse_report", 1, ReverseReport)
def reverse_report(ctx: MutationContext, args: ReverseReport) -> None:
    """Cancel a wrong operation report by appending its reversal; the original stays in the ledger."""
    original = ctx.get(wo_operation_reports, id=args.report_id)
    if original is None:
        ctx.reject(errors.UNKNOWN_REPORT, "this report does not exist", report_id=args.report_id)
    if original["event"] == "reversal":
        ctx.reject(errors.ALREADY_REVERSED, "a reversal cannot itself be reversed; report again instead")
    already = ctx.conn.execute(select(wo_operation_reports.c.id)
                               .where(wo_operation_reports.c.reverses_id == args.report_id)).first()
    if already is not None and already.id != args.reversal_id:
        ctx.reject(errors.ALREADY_REVERSED, "this report was already reversed", reversal_id=already.id)
    check_text(ctx, args.reason, "reason")
    appended = _append(ctx, {
        "id": args.reversal_id, "site_id": original["site_id"], "work_order_id": original["work_order_id"],
        "operation_seq": original["operation_seq"], "event": "reversal",
        "good_quantity": -original["good_quantity"], "scrap_quantity": -original["scrap_quantity"],
        "operator": original["operator"], "occurred_at": args.occurred_at, "reverses_id": args.report_id,
        "note": args.reason,
    })
    if appended:
        operation = ctx.get(wo_operations, work_order_id=original["work_order_id"], sequence=original["operation_seq"])
        _refresh_operation(ctx, operation)
