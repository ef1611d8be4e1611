"""Cycle counts (盘点): a list of (item, location[, lot]) lines of one warehouse to count, counted
blind on a device, reviewed and approved into count moves.

States (``TRANSITIONS``; ``change_state`` applies one or raises)::

    open ──first count──▶ counting ──submit──▶ submitted ──approve──▶ approved
      │                      │                     │
      └───────cancel─────────┴──────cancel─────────┴──▶ cancelled

- ``submit``, ``approve`` and ``cancel`` are decisions, validated against the server's current
  state: approving a count HQ cancelled meanwhile is rejected (``inventory.count_cancelled``).
- A counted quantity (``inventory.record_count``) is a physical fact. It is always appended to
  ``cycle_count_entries``; on an open, counting or submitted document it becomes the line's
  latest count; on an approved or cancelled one it is kept and flagged (the entry's ``flag``
  and an inventory exception for review), and changes neither the line nor the ledger.

Invariants:
- Entries are never updated or deleted; a recount is a new entry. A line shows the count with
  the latest ``occurred_at``, so entries synced out of order still leave the latest count.
- The system quantity of a line is taken by the server when it applies the entry, never shown
  to the counter (a blind count), so the variance is counted − what the ledger held then.
- Approval posts one ``count`` move per counted line, of (counted − system at count time), so
  goods moved between the count and the approval are not undone. Its move id derives from the
  line id: an approval applied on a device and then on the server appends each move once.
- Lines are fixed once the document exists; counts and the approval write back to them.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, select

from erp.inventory import count_errors as errors
from erp.inventory import errors as inventory_errors
from erp.inventory.inventory_exception import inventory_exceptions
from erp.inventory.stock_count import post_count, system_quantity
from erp.inventory.stock_move import UtcMoment, check_quantity, require_item, require_location
from erp.inventory.warehouse import warehouses
from sync.context import MutationContext
from sync.ids import new_id
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType, UtcDateTime

cycle_counts = Table(
    "cycle_counts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("warehouse_id", ID, ForeignKey("warehouses.id"), nullable=False),
    Column("number", String(40), nullable=False, unique=True),
    Column("status", String(12), nullable=False),
    Column("note", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120)),
    Column("decided_at", UtcDateTime),  # the last submit, approve or cancel
    Column("decided_by", String(120)),
    Column("cancel_reason", Text),
    version_column(),
    field_versions_column(),
    Index("ix_cycle_counts_site_key", "site_id", "id"),  # bootstrap reads a site in key order
)

cycle_count_lines = Table(
    "cycle_count_lines",
    metadata,
    Column("id", ID, primary_key=True),
    Column("count_id", ID, ForeignKey("cycle_counts.id"), nullable=False, index=True),
    Column("site_id", ID, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("location_id", ID, ForeignKey("locations.id"), nullable=False),
    Column("lot_no", String(64)),  # count one lot (批次) only; empty: the whole location
    # Written back by the latest count entry (by occurred_at); empty until the line is counted.
    Column("counted_quantity", DecimalType),
    Column("system_quantity", DecimalType),  # what the ledger held when that count was applied
    Column("counted_at", UtcDateTime),
    Column("counted_by", String(120)),
    Column("move_id", ID),  # the count move the approval posted
    UniqueConstraint("count_id", "line_no"),
    version_column(),
    field_versions_column(),
    Index("ix_cycle_count_lines_site_key", "site_id", "id"),
)

cycle_count_entries = Table(
    "cycle_count_entries",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("count_id", ID, nullable=False, index=True),
    Column("line_id", ID, nullable=False, index=True),
    Column("counted_quantity", DecimalType, nullable=False),
    Column("system_quantity", DecimalType, nullable=False),  # taken by the server, never shown to the counter
    # Empty, or the state that kept the entry from counting: cancelled | approved (flagged for review).
    Column("flag", String(16)),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("device_id", ID),
    Column("seq", BigInteger),  # the device mutation sequence that appended it
    Column("hlc", String(64), nullable=False),
    Column("user_name", String(120)),
    version_column(),
    Index("ix_cycle_count_entries_site_key", "site_id", "id"),
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"counting", "cancelled"}),
    "counting": frozenset({"submitted", "cancelled"}),
    "submitted": frozenset({"approved", "cancelled"}),
    "approved": frozenset(),
    "cancelled": frozenset(),
}
# Where a count entry still becomes its line's count; elsewhere it is kept and flagged.
COUNTING_STATES = frozenset({"open", "counting", "submitted"})
# Approval moves are named from their line: the same id wherever the approval is applied.
_MOVE_NAMESPACE = uuid.UUID("6a0e8f1c-3b7d-4c55-9a41-2f0d7c9e5b13")


class TransitionForbidden(Exception):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a {current} cycle count cannot become {target}")
        self.current, self.target = current, target


def change_state(current: str, target: str) -> str:
    """The new state, or ``TransitionForbidden``."""
    if target not in TRANSITIONS[current]:
        raise TransitionForbidden(current, target)
    return target


def approval_move_id(line_id: str) -> str:
    return str(uuid.uuid5(_MOVE_NAMESPACE, line_id))


class NewCountLine(msgspec.Struct, frozen=True):
    line_id: str
    item_id: str
    location_id: str
    lot_no: str | None = None


class CreateCycleCount(msgspec.Struct, frozen=True):
    count_id: str
    warehouse_id: str
    number: str
    lines: list[NewCountLine]
    note: str | None = None


class RecordCount(msgspec.Struct, frozen=True):
    entry_id: str
    line_id: str
    counted_quantity: Decimal
    occurred_at: UtcMoment


class SubmitCycleCount(msgspec.Struct, frozen=True):
    count_id: str


class ApproveCycleCount(msgspec.Struct, frozen=True):
    count_id: str


class CancelCycleCount(msgspec.Struct, frozen=True):
    count_id: str
    reason: str = ""


def require_count(ctx: MutationContext, count_id: str) -> Any:
    found = ctx.get(cycle_counts, id=count_id)
    if found is None:
        ctx.reject(errors.UNKNOWN_CYCLE_COUNT, "this cycle count does not exist", count_id=count_id)
    return found


def lines_of(ctx: MutationContext, count_id: str) -> list[Any]:
    return list(ctx.conn.execute(select(cycle_count_lines).where(cycle_count_lines.c.count_id == count_id)
                                 .order_by(cycle_count_lines.c.line_no)).mappings())


def decide(ctx: MutationContext, document: Any, target: str, **extra: Any) -> None:
    """Apply a person's decision to the document as the server has it now."""
    try:
        change_state(document["status"], target)
    except TransitionForbidden as refused:
        otherwise = errors.COUNT_NOT_SUBMITTED if target == "approved" else errors.COUNT_TRANSITION_FORBIDDEN
        code = {"cancelled": errors.COUNT_CANCELLED, "approved": errors.COUNT_APPROVED}.get(document["status"],
                                                                                         otherwise)
        ctx.reject(code, f"cycle count {document['number']}: {refused}", count_id=document["id"],
                   status=document["status"], wanted=target)
    ctx.update(cycle_counts, {"id": document["id"]}, {"status": target, "decided_at": datetime.now(timezone.utc),
                                                      "decided_by": ctx.actor.user, **extra}, current=document)


@mutation("inventory.create_cycle_count", 1, CreateCycleCount)
def create_cycle_count(ctx: MutationContext, args: CreateCycleCount) -> None:
    """Open a cycle count of a warehouse with the lines to count (HQ, or a branch for its site)."""
    warehouse = ctx.get(warehouses, id=args.warehouse_id)
    if warehouse is None:
        ctx.reject(inventory_errors.UNKNOWN_WAREHOUSE, "this warehouse does not exist", warehouse_id=args.warehouse_id)
    if ctx.conn.execute(select(cycle_counts.c.id).where(cycle_counts.c.number == args.number)).first():
        ctx.reject(errors.COUNT_NUMBER_TAKEN, f"cycle count number {args.number} is already used", number=args.number)
    if not args.lines:
        ctx.reject(errors.COUNT_HAS_NO_LINES, "a cycle count needs at least one line")
    if len({line.line_id for line in args.lines}) != len(args.lines) or \
            len({(line.item_id, line.location_id, line.lot_no) for line in args.lines}) != len(args.lines):
        ctx.reject(errors.DUPLICATE_COUNT_LINE, "two lines have the same id, or count the same item, location and lot")
    for line in args.lines:
        require_item(ctx, line.item_id)
        location = require_location(ctx, line.location_id)
        if location["warehouse_id"] != args.warehouse_id:
            ctx.reject(errors.COUNT_LOCATION_ELSEWHERE, f"location {location['code']} is not in this warehouse",
                       location_id=line.location_id, warehouse_id=args.warehouse_id)
    site_id = warehouse["site_id"]
    ctx.insert(cycle_counts, {
        "id": args.count_id, "site_id": site_id, "warehouse_id": args.warehouse_id, "number": args.number,
        "status": "open", "note": args.note, "created_at": datetime.now(timezone.utc), "created_by": ctx.actor.user,
    })
    for number, line in enumerate(args.lines, start=1):
        ctx.insert(cycle_count_lines, {
            "id": line.line_id, "count_id": args.count_id, "site_id": site_id, "line_no": number,
            "item_id": line.item_id, "location_id": line.location_id, "lot_no": line.lot_no,
        })


def _flag(ctx: MutationContext, document: Any, line: Any, args: RecordCount) -> str:
    """Keep a count that arrived after the document was decided, and raise it for review."""
    flag = document["status"]
    ctx.insert(inventory_exceptions, {
        "id": new_id(), "site_id": line["site_id"], "kind": f"count_after_{flag}", "item_id": line["item_id"],
        "location_id": line["location_id"], "quantity": args.counted_quantity,
        "involved_json": json.dumps([{"device_id": ctx.ref.device_id, "seq": ctx.ref.seq, "entry_id": args.entry_id,
                                      "count_id": document["id"], "count_number": document["number"]}]),
        "status": "open", "raised_at": datetime.now(timezone.utc),
    })
    return flag


@mutation("inventory.record_count", 1, RecordCount)
def record_count(ctx: MutationContext, args: RecordCount) -> None:
    """A counter counted one line (blind). Never refused for the document's state: flagged instead."""
    check_quantity(ctx, args.counted_quantity, allow_zero=True)
    line = ctx.get(cycle_count_lines, id=args.line_id)
    if line is None:
        ctx.reject(errors.UNKNOWN_COUNT_LINE, "this cycle-count line does not exist", line_id=args.line_id)
    document = require_count(ctx, line["count_id"])
    if ctx.get(cycle_count_entries, id=args.entry_id) is not None:
        return  # a replay: this count is already recorded
    system = system_quantity(ctx, item_id=line["item_id"], location_id=line["location_id"], lot_no=line["lot_no"])
    counting = document["status"] in COUNTING_STATES
    ctx.insert_ledger(cycle_count_entries, {
        "id": args.entry_id, "site_id": line["site_id"], "count_id": document["id"], "line_id": line["id"],
        "counted_quantity": args.counted_quantity, "system_quantity": system,
        "flag": None if counting else _flag(ctx, document, line, args), "occurred_at": args.occurred_at,
        "device_id": ctx.ref.device_id, "seq": ctx.ref.seq if ctx.ref.device_id else None, "hlc": ctx.ref.hlc,
        "user_name": ctx.actor.user,
    })
    if not counting:
        return
    if line["counted_at"] is None or args.occurred_at >= line["counted_at"]:
        ctx.update(cycle_count_lines, {"id": line["id"]}, {
            "counted_quantity": args.counted_quantity, "system_quantity": system, "counted_at": args.occurred_at,
            "counted_by": ctx.actor.user}, current=line)
    if document["status"] == "open":
        ctx.update(cycle_counts, {"id": document["id"]}, {"status": change_state("open", "counting")},
                   current=document)


@mutation("inventory.submit_cycle_count", 1, SubmitCycleCount)
def submit_cycle_count(ctx: MutationContext, args: SubmitCycleCount) -> None:
    """The counters are done: the document goes to review. Lines not counted will not be adjusted."""
    decide(ctx, require_count(ctx, args.count_id), "submitted")


@mutation("inventory.approve_cycle_count", 1, ApproveCycleCount)
def approve_cycle_count(ctx: MutationContext, args: ApproveCycleCount) -> None:
    """Accept the counts: each counted line's difference becomes a count move."""
    document = require_count(ctx, args.count_id)
    decide(ctx, document, "approved")
    for line in lines_of(ctx, args.count_id):
        if line["counted_quantity"] is None:
            continue
        move_id = approval_move_id(line["id"])
        post_count(ctx, move_id=move_id, item_id=line["item_id"], location=require_location(ctx, line["location_id"]),
                   counted=line["counted_quantity"], system=line["system_quantity"], occurred_at=line["counted_at"],
                   document_id=document["id"], lot_no=line["lot_no"])
        ctx.update(cycle_count_lines, {"id": line["id"]}, {"move_id": move_id}, current=line)


@mutation("inventory.cancel_cycle_count", 1, CancelCycleCount)
def cancel_cycle_count(ctx: MutationContext, args: CancelCycleCount) -> None:
    """Drop a count before approval; counts recorded afterwards are kept and flagged."""
    decide(ctx, require_count(ctx, args.count_id), "cancelled", cancel_reason=args.reason or None)
