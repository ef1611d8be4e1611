"""The engine's own replicated tables and mutations: rejections and conflicts.

A rejection or a field conflict is a row addressed to one device (scope ``device``), so the
conflict inbox reaches the device by the same pull as everything else, and HQ lists them
from the same tables. The user's answer to one is itself a mutation, so it travels the same
exactly-once path.

Rejection states::

    open ──resubmit──▶ resubmitted
      └───discard───▶ discarded

Conflict states::

    open ──acknowledge──▶ acknowledged
"""

from __future__ import annotations

from typing import Literal

import msgspec
from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from sync.context import MutationContext
from sync.registry import ModuleManifest, mutation
from sync.schema import ID, SERVER_ONLY_TABLES, metadata
from sync.specs import ScopeKind, SyncKind, SyncSpec, version_column
from sync.types import UtcDateTime

sync_rejections = Table(
    "sync_rejections",
    metadata,
    Column("id", ID, primary_key=True),
    Column("device_id", ID, nullable=False),
    Column("site_id", ID),
    Column("seq", BigInteger, nullable=False),
    Column("mutation", String(120), nullable=False),
    Column("mutation_version", Integer, nullable=False),
    Column("args_json", Text, nullable=False),  # the arguments as sent, for fix-and-resubmit
    Column("code", String(120), nullable=False, index=True),
    Column("message", Text, nullable=False),
    Column("details_json", Text, nullable=False),
    Column("hlc", String(64), nullable=False),
    Column("user_name", String(120)),
    Column("rejected_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, default="open"),
    Column("resolution_seq", BigInteger),  # the mutation that resubmitted it, if any
    version_column(),
)

sync_conflicts = Table(
    "sync_conflicts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("device_id", ID),  # NULL when the losing edit came from HQ
    Column("site_id", ID),
    Column("seq", BigInteger),
    Column("table_name", String(120), nullable=False),
    Column("row_key", Text, nullable=False),
    Column("field", String(120), nullable=False),
    Column("base_version", BigInteger, nullable=False),
    Column("device_value_json", Text, nullable=False),
    Column("server_value_json", Text, nullable=False),
    Column("kept", String(8), nullable=False),  # server | device
    Column("detected_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, default="open"),
    version_column(),
)

REJECTION_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"resubmitted", "discarded"}),
    "resubmitted": frozenset(),
    "discarded": frozenset(),
}


class ResolveRejection(msgspec.Struct, frozen=True):
    rejection_id: str
    resolution: Literal["resubmitted", "discarded"]
    # Sequence of the corrected mutation when resubmitting; it was queued just before this one.
    resubmitted_seq: int | None = None


class AcknowledgeConflict(msgspec.Struct, frozen=True):
    conflict_id: str


@mutation("sync.resolve_rejection", 1, ResolveRejection)
def resolve_rejection(ctx: MutationContext, args: ResolveRejection) -> None:
    """Close a rejection in the inbox: the user resubmitted a fix or discarded it."""
    row = ctx.get(sync_rejections, id=args.rejection_id)
    if row is None:
        ctx.reject("sync.rejection_missing", "this rejection is unknown", rejection_id=args.rejection_id)
    if args.resolution not in REJECTION_TRANSITIONS[row["status"]]:
        ctx.reject(
            "sync.rejection_closed",
            f"this rejection is already {row['status']}",
            status=row["status"],
        )
    ctx.update(
        sync_rejections,
        {"id": args.rejection_id},
        {"status": args.resolution, "resolution_seq": args.resubmitted_seq},
    )


@mutation("sync.acknowledge_conflict", 1, AcknowledgeConflict)
def acknowledge_conflict(ctx: MutationContext, args: AcknowledgeConflict) -> None:
    """Mark a field conflict as seen; the kept value stays."""
    row = ctx.get(sync_conflicts, id=args.conflict_id)
    if row is None:
        ctx.reject("sync.conflict_missing", "this conflict is unknown", conflict_id=args.conflict_id)
    if row["status"] != "open":
        ctx.reject("sync.conflict_closed", "this conflict is already acknowledged")
    ctx.update(sync_conflicts, {"id": args.conflict_id}, {"status": "acknowledged"})


MODULE = ModuleManifest(
    name="sync",
    description="The sync engine's own inbox tables: rejections and field conflicts.",
    mutations=(resolve_rejection, acknowledge_conflict),
    sync_specs=(
        SyncSpec(sync_rejections, SyncKind.DERIVED, ScopeKind.DEVICE, "device_id"),
        SyncSpec(sync_conflicts, SyncKind.DERIVED, ScopeKind.DEVICE, "device_id"),
    ),
    server_only_tables=SERVER_ONLY_TABLES,
)
