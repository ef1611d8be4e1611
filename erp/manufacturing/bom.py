"""Bills of materials: what one unit of an item is made of, in numbered versions.

States (``BOM_TRANSITIONS``; ``bom_transition`` applies one or raises)::

    draft ──release──▶ released ──obsolete──▶ obsolete

- A **draft** is edited line by line (add, change, remove).
- A **released** BOM is immutable: work orders explode it and keep pointing at it, so a change
  is a new version (``new_bom_version`` copies the lines into a new draft). Every mutation that
  would edit a released or obsolete BOM is refused with ``manufacturing.bom_not_editable``.
- The **effective** BOM of an item is its released version with the highest number: new work
  orders default to it and phantom lines explode through it. Releasing version 3 leaves
  version 2 released (orders made from it stay valid) until someone makes it obsolete.

BOMs are engineering data shared by every site (scope ``shared``) and kept at HQ: the same
product is built from the same parts in every plant. How a plant builds it (work centres,
times) is its routing, which is per site (``routing.py``).

Invariants:
- ``(item_id, version)`` is unique; versions of an item count up from 1 and are never reused.
- A released BOM has at least one line, and releasing it creates no cycle among the released
  BOMs (an item that is, through released lines, a component of itself): refused with
  ``manufacturing.bom_cycle`` naming the loop.
- A line's component is never the BOM's own item; quantity per > 0, scrap factor ≥ 0, both
  with at most 9 decimals. Line numbers count up within a BOM and are never reused.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import (
    Boolean, Column, Connection, ForeignKey, Integer, String, Table, Text, UniqueConstraint, func, select,
)

from erp.inventory.stock_move import require_item
from erp.manufacturing import errors
from erp.manufacturing.bom_explosion import ExplosionLine
from erp.manufacturing.checks import check_amount, check_quantity, rejecting
from erp.manufacturing.errors import InvalidTransition
from erp.manufacturing.low_level_codes import low_level_codes
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType, UtcDateTime

BOM_TRANSITIONS: dict[str, dict[str, str]] = {
    "draft": {"release": "released"},
    "released": {"obsolete": "obsolete"},
    "obsolete": {},
}

# Line ids of a copied version are derived from the new BOM's id, so the copy is the same
# wherever it runs.
_LINE_IDS = uuid.UUID("0c6f3d2e-5b1a-4f7e-9a57-6a1b0e0b7c31")

boms = Table(
    "boms",
    metadata,
    Column("id", ID, primary_key=True),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),  # what the BOM makes
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # draft | released | obsolete
    Column("note", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime),
    Column("released_by", String(120)),
    UniqueConstraint("item_id", "version"),
    version_column(),
    field_versions_column(),
)

bom_lines = Table(
    "bom_lines",
    metadata,
    Column("id", ID, primary_key=True),
    Column("bom_id", ID, ForeignKey("boms.id"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("component_item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("quantity_per", DecimalType, nullable=False),  # per one unit of the BOM's item
    Column("scrap_factor", DecimalType, nullable=False),  # 0.05: 5 % is lost on the way
    Column("phantom", Boolean, nullable=False),  # exploded through the component's effective BOM
    Column("backflush", Boolean, nullable=False),  # issued automatically at completion (倒冲)
    UniqueConstraint("bom_id", "line_no"),
    version_column(),
    field_versions_column(),
)


def bom_transition(status: str, event: str) -> str:
    """The state after ``event``; ``InvalidTransition`` if the table does not allow it."""
    target = BOM_TRANSITIONS.get(status, {}).get(event)
    if target is None:
        raise InvalidTransition(f"a {status} BOM cannot {event}", status=status, event=event)
    return target


def effective_bom(conn: Connection, item_id: str) -> Any:
    """The item's released BOM with the highest version, or None."""
    return conn.execute(
        select(boms).where(boms.c.item_id == item_id, boms.c.status == "released")
        .order_by(boms.c.version.desc()).limit(1)
    ).mappings().first()


def explosion_lines(conn: Connection, bom_id: str) -> list[ExplosionLine]:
    rows = conn.execute(select(bom_lines).where(bom_lines.c.bom_id == bom_id).order_by(bom_lines.c.line_no))
    return [ExplosionLine(r.component_item_id, r.quantity_per, r.scrap_factor, bool(r.phantom), bool(r.backflush))
            for r in rows]


def require_bom(ctx: MutationContext, bom_id: str) -> Any:
    bom = ctx.get(boms, id=bom_id)
    if bom is None:
        ctx.reject(errors.UNKNOWN_BOM, "this BOM does not exist", bom_id=bom_id)
    return bom


def _require_draft(ctx: MutationContext, bom: Any) -> None:
    if bom["status"] != "draft":
        ctx.reject(errors.BOM_NOT_EDITABLE,
                   f"version {bom['version']} of this BOM is {bom['status']} and cannot change; "
                   "make a new version instead", bom_id=bom["id"], status=bom["status"])


def _next_version(ctx: MutationContext, item_id: str) -> int:
    latest = ctx.conn.execute(select(func.max(boms.c.version)).where(boms.c.item_id == item_id)).scalar()
    return (latest or 0) + 1


def _check_line(ctx: MutationContext, bom: Any, component_id: str, quantity_per: Decimal,
                scrap_factor: Decimal) -> None:
    check_quantity(ctx, quantity_per, "quantity_per")
    check_amount(ctx, scrap_factor, "scrap_factor", code=errors.INVALID_QUANTITY)
    if component_id == bom["item_id"]:
        ctx.reject(errors.BOM_CYCLE, "an item cannot be a component of its own BOM",
                   cycle=[bom["item_id"], bom["item_id"]])


class CreateBom(msgspec.Struct, frozen=True):
    bom_id: str
    item_id: str
    note: str | None = None


class NewBomVersion(msgspec.Struct, frozen=True):
    bom_id: str  # the new draft
    from_bom_id: str  # the version whose lines it starts from
    note: str | None = None


class AddBomLine(msgspec.Struct, frozen=True):
    line_id: str
    bom_id: str
    component_item_id: str
    quantity_per: Decimal
    scrap_factor: Decimal = Decimal(0)
    phantom: bool = False
    backflush: bool = False


class UpdateBomLine(msgspec.Struct, frozen=True):
    """Only the fields to change, each with the field version it was based on."""

    line_id: str
    quantity_per: Edit[Decimal] | None = None
    scrap_factor: Edit[Decimal] | None = None
    phantom: Edit[bool] | None = None
    backflush: Edit[bool] | None = None


class RemoveBomLine(msgspec.Struct, frozen=True):
    line_id: str


class BomDecision(msgspec.Struct, frozen=True):
    bom_id: str


def _insert_bom(ctx: MutationContext, bom_id: str, item_id: str, note: str | None) -> int:
    version = _next_version(ctx, item_id)
    ctx.insert(boms, {"id": bom_id, "item_id": item_id, "version": version, "status": "draft", "note": note,
                      "created_at": datetime.now(timezone.utc)})
    return version


@mutation("manufacturing.create_bom", 1, CreateBom)
def create_bom(ctx: MutationContext, args: CreateBom) -> None:
    """Start a new BOM version of an item, as an empty draft (HQ only)."""
    require_item(ctx, args.item_id)
    _insert_bom(ctx, args.bom_id, args.item_id, args.note)


@mutation("manufacturing.new_bom_version", 1, NewBomVersion)
def new_bom_version(ctx: MutationContext, args: NewBomVersion) -> None:
    """Start the next version of a BOM as a draft holding a copy of another version's lines."""
    source = require_bom(ctx, args.from_bom_id)
    _insert_bom(ctx, args.bom_id, source["item_id"], args.note)
    for line in ctx.conn.execute(select(bom_lines).where(bom_lines.c.bom_id == source["id"])
                                 .order_by(bom_lines.c.line_no)).mappings().all():
        ctx.insert(bom_lines, {
            "id": str(uuid.uuid5(_LINE_IDS, f"{args.bom_id}/{line['line_no']}")), "bom_id": args.bom_id,
            "line_no": line["line_no"], "component_item_id": line["component_item_id"],
            "quantity_per": line["quantity_per"], "scrap_factor": line["scrap_factor"],
            "phantom": bool(line["phantom"]), "backflush": bool(line["backflush"]),
        })


@mutation("manufacturing.add_bom_line", 1, AddBomLine)
def add_bom_line(ctx: MutationContext, args: AddBomLine) -> None:
    """Add a component line to a draft BOM."""
    bom = require_bom(ctx, args.bom_id)
    _require_draft(ctx, bom)
    require_item(ctx, args.component_item_id)
    _check_line(ctx, bom, args.component_item_id, args.quantity_per, args.scrap_factor)
    last = ctx.conn.execute(select(func.max(bom_lines.c.line_no)).where(bom_lines.c.bom_id == args.bom_id)).scalar()
    ctx.insert(bom_lines, {
        "id": args.line_id, "bom_id": args.bom_id, "line_no": (last or 0) + 1,
        "component_item_id": args.component_item_id, "quantity_per": args.quantity_per,
        "scrap_factor": args.scrap_factor, "phantom": args.phantom, "backflush": args.backflush,
    })


def _line_and_draft(ctx: MutationContext, line_id: str) -> tuple[Any, Any]:
    line = ctx.get(bom_lines, id=line_id)
    if line is None:
        ctx.reject(errors.UNKNOWN_BOM_LINE, "this BOM line does not exist", line_id=line_id)
    bom = require_bom(ctx, line["bom_id"])
    _require_draft(ctx, bom)
    return line, bom


@mutation("manufacturing.update_bom_line", 1, UpdateBomLine)
def update_bom_line(ctx: MutationContext, args: UpdateBomLine) -> None:
    """Change a line of a draft BOM, field by field."""
    line, bom = _line_and_draft(ctx, args.line_id)
    _check_line(ctx, bom, line["component_item_id"],
                args.quantity_per.value if args.quantity_per else line["quantity_per"],
                args.scrap_factor.value if args.scrap_factor else line["scrap_factor"])
    ctx.merge_master(bom_lines, {"id": args.line_id}, {
        "quantity_per": args.quantity_per, "scrap_factor": args.scrap_factor, "phantom": args.phantom,
        "backflush": args.backflush,
    })


@mutation("manufacturing.remove_bom_line", 1, RemoveBomLine)
def remove_bom_line(ctx: MutationContext, args: RemoveBomLine) -> None:
    """Remove a line from a draft BOM."""
    _line_and_draft(ctx, args.line_id)
    ctx.delete(bom_lines, {"id": args.line_id})


@mutation("manufacturing.release_bom", 1, BomDecision)
def release_bom(ctx: MutationContext, args: BomDecision) -> None:
    """Release a draft BOM: from now on it is immutable and work orders may use it."""
    bom = require_bom(ctx, args.bom_id)
    target = rejecting(ctx, lambda: bom_transition(bom["status"], "release"))
    lines = ctx.conn.execute(select(bom_lines.c.component_item_id).where(bom_lines.c.bom_id == args.bom_id)).all()
    if not lines:
        ctx.reject(errors.BOM_EMPTY, "a BOM needs at least one line to be released", bom_id=args.bom_id)
    _check_no_cycle(ctx, bom["item_id"], [line.component_item_id for line in lines])
    ctx.update(boms, {"id": args.bom_id}, {"status": target, "released_at": datetime.now(timezone.utc),
                                           "released_by": ctx.actor.user}, current=bom)


@mutation("manufacturing.obsolete_bom", 1, BomDecision)
def obsolete_bom(ctx: MutationContext, args: BomDecision) -> None:
    """Retire a released BOM: no new work order uses it; existing ones keep it."""
    bom = require_bom(ctx, args.bom_id)
    target = rejecting(ctx, lambda: bom_transition(bom["status"], "obsolete"))
    ctx.update(boms, {"id": args.bom_id}, {"status": target}, current=bom)


def _check_no_cycle(ctx: MutationContext, item_id: str, components: list[str]) -> None:
    """Refuse a release that would make an item a component of itself through released BOMs."""
    edges = {(item_id, component) for component in components}
    released = select(boms.c.item_id, bom_lines.c.component_item_id).join(bom_lines, bom_lines.c.bom_id == boms.c.id)
    edges.update((r.item_id, r.component_item_id) for r in ctx.conn.execute(released.where(boms.c.status == "released")))
    nodes = sorted({node for edge in edges for node in edge})
    rejecting(ctx, lambda: low_level_codes(nodes, sorted(edges)))
