"""Inspection plans (检验方案): what to check on an item, at which stage, on how many pieces.

A plan belongs to one item and one stage: ``incoming`` (goods received against a purchase
order, optionally only from one supplier), ``in_process`` (one operation of the item's routing,
named by its sequence number: 10, 20...) or ``final`` (good units a work order reports finished).
It samples a ``fixed`` number of pieces or a ``percent`` of the lot, and lists characteristics:
``measured`` ones with Decimal limits in a unit, ``attribute`` ones judged ok / not ok.

Plans are versioned, not edited. A result records the plan it was judged against, and its
verdict must stay explainable by that plan's limits years later; so a plan's characteristics
and sampling never change. ``quality.revise_plan`` creates the next version (same code,
``version`` + 1, ``supersedes_id`` pointing at the one before) and deactivates the previous
one; only the ``active`` flag and the name of a plan are editable. Plans are written at HQ and
shared with every device (a tablet at the dock needs them offline).

Invariants:
- ``(code, version)`` is unique; at most one version of a code is active.
- A characteristic's limits satisfy ``lower <= nominal <= upper`` where given; attributes
  carry no limits. Names are unique within a plan.
- Sampling: a fixed sample is a whole number ≥ 1; a percentage is in (0, 100].
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal

import msgspec
from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint, and_, select

from erp.inventory.stock_move import require_item
from erp.purchasing import errors as purchasing_errors
from erp.purchasing.supplier import suppliers
from erp.quality import errors
from erp.quality.verdict import Characteristic
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType, UtcDateTime

Stage = Literal["incoming", "in_process", "final"]
STAGES = ("incoming", "in_process", "final")

inspection_plans = Table(
    "inspection_plans",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(40), nullable=False),  # what people type; shared by a plan's versions
    Column("version", Integer, nullable=False),  # 1, 2...: a revision is a new row
    Column("name", String(200), nullable=False),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("stage", String(16), nullable=False),  # incoming | in_process | final
    Column("supplier_id", ID, ForeignKey("suppliers.id")),  # incoming only; None: every supplier
    Column("operation_seq", Integer),  # in_process only: the routing operation's sequence
    Column("sample_kind", String(8), nullable=False),  # fixed | percent
    Column("sample_value", DecimalType, nullable=False),  # pieces, or percent of the lot
    Column("active", Boolean, nullable=False, default=True),  # False: superseded or withdrawn
    Column("supersedes_id", ID),  # the version this one revised
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120)),
    UniqueConstraint("code", "version"),
    version_column(),
    field_versions_column(),
    Index("ix_inspection_plans_item_stage", "item_id", "stage"),
)

plan_characteristics = Table(
    "plan_characteristics",
    metadata,
    Column("plan_id", ID, ForeignKey("inspection_plans.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    Column("name", String(120), nullable=False),  # 外径, 外观...: what a measurement names
    Column("kind", String(16), nullable=False),  # measured | attribute
    Column("nominal", DecimalType),
    Column("lower", DecimalType),  # inclusive; None: unbounded below
    Column("upper", DecimalType),  # inclusive; None: unbounded above
    Column("unit", String(16)),  # mm, g, N·m...
    UniqueConstraint("plan_id", "name"),
    version_column(),
    field_versions_column(),
)


class NewCharacteristic(msgspec.Struct, frozen=True):
    name: str
    kind: Literal["measured", "attribute"]
    nominal: Decimal | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    unit: str | None = None


class CreatePlan(msgspec.Struct, frozen=True):
    plan_id: str
    code: str
    name: str
    item_id: str
    stage: Stage
    sample_kind: Literal["fixed", "percent"]
    sample_value: Decimal
    characteristics: list[NewCharacteristic]
    supplier_id: str | None = None
    operation_seq: int | None = None


class RevisePlan(msgspec.Struct, frozen=True):
    """The next version of a plan: new sampling and characteristics, same code, item and stage."""

    plan_id: str  # the new version's id
    supersedes_id: str  # the version it replaces (deactivated)
    name: str
    sample_kind: Literal["fixed", "percent"]
    sample_value: Decimal
    characteristics: list[NewCharacteristic]
    supplier_id: str | None = None
    operation_seq: int | None = None


class UpdatePlan(msgspec.Struct, frozen=True):
    plan_id: str
    name: Edit[str] | None = None
    active: Edit[bool] | None = None


def require_plan(ctx: MutationContext, plan_id: str) -> Any:
    plan = ctx.get(inspection_plans, id=plan_id)
    if plan is None:
        ctx.reject(errors.UNKNOWN_PLAN, "this inspection plan does not exist", plan_id=plan_id)
    return plan


def characteristics_of(ctx: MutationContext, plan_id: str) -> list[Characteristic]:
    rows = ctx.conn.execute(select(plan_characteristics).where(plan_characteristics.c.plan_id == plan_id)
                            .order_by(plan_characteristics.c.line_no)).mappings()
    return [Characteristic(row["name"], row["kind"], row["nominal"], row["lower"], row["upper"], row["unit"])
            for row in rows]


def _check(ctx: MutationContext, *, stage: str, sample_kind: str, sample_value: Decimal, supplier_id: str | None,
           operation_seq: int | None, characteristics: list[NewCharacteristic]) -> None:
    if supplier_id is not None and stage != "incoming":
        ctx.reject(errors.INVALID_STAGE, "only an incoming plan names a supplier", stage=stage)
    if (operation_seq is None) == (stage == "in_process"):
        ctx.reject(errors.INVALID_STAGE, "an in-process plan names one routing operation, and only it does",
                   stage=stage)
    if supplier_id is not None and ctx.get(suppliers, id=supplier_id) is None:
        ctx.reject(purchasing_errors.UNKNOWN_SUPPLIER, "this supplier does not exist", supplier_id=supplier_id)
    whole = sample_value.is_finite() and sample_value == sample_value.to_integral_value()
    if not sample_value.is_finite() or sample_value <= 0 or (sample_kind == "fixed" and not whole) \
            or (sample_kind == "percent" and sample_value > 100):
        ctx.reject(errors.INVALID_SAMPLING, f"{sample_value} is not a {sample_kind} sample "
                   "(fixed: whole pieces ≥ 1; percent: above 0, at most 100)", sample_value=str(sample_value))
    if not characteristics:
        ctx.reject(errors.INVALID_CHARACTERISTIC, "a plan checks at least one characteristic")
    names = [c.name.strip() for c in characteristics]
    if len(set(names)) != len(names):
        ctx.reject(errors.DUPLICATE_CHARACTERISTIC, "two characteristics have the same name")
    for c in characteristics:
        limits = [v for v in (c.lower, c.nominal, c.upper) if v is not None]
        if not c.name.strip() or any(not v.is_finite() for v in limits):
            ctx.reject(errors.INVALID_CHARACTERISTIC, f"characteristic {c.name!r} needs a name and finite limits")
        if c.kind == "attribute" and limits:
            ctx.reject(errors.INVALID_LIMITS, f"{c.name}: an attribute is ok / not ok and has no limits")
        if limits != sorted(limits):
            ctx.reject(errors.INVALID_LIMITS, f"{c.name}: limits must satisfy lower ≤ nominal ≤ upper",
                       characteristic=c.name)


def _insert_plan(ctx: MutationContext, *, plan_id: str, code: str, version: int, name: str, item_id: str, stage: str,
                 sample_kind: str, sample_value: Decimal, supplier_id: str | None, operation_seq: int | None,
                 characteristics: list[NewCharacteristic], supersedes_id: str | None) -> None:
    _check(ctx, stage=stage, sample_kind=sample_kind, sample_value=sample_value, supplier_id=supplier_id,
           operation_seq=operation_seq, characteristics=characteristics)
    ctx.insert(inspection_plans, {
        "id": plan_id, "code": code, "version": version, "name": name, "item_id": item_id, "stage": stage,
        "supplier_id": supplier_id, "operation_seq": operation_seq, "sample_kind": sample_kind,
        "sample_value": sample_value, "active": True, "supersedes_id": supersedes_id,
        "created_at": datetime.now(timezone.utc), "created_by": ctx.actor.user,
    })
    for line_no, c in enumerate(characteristics, start=1):
        ctx.insert(plan_characteristics, {
            "plan_id": plan_id, "line_no": line_no, "name": c.name.strip(), "kind": c.kind, "nominal": c.nominal,
            "lower": c.lower, "upper": c.upper, "unit": c.unit,
        })


@mutation("quality.create_plan", 1, CreatePlan)
def create_plan(ctx: MutationContext, args: CreatePlan) -> None:
    """Create version 1 of an inspection plan (HQ: quality engineers)."""
    require_item(ctx, args.item_id)
    if ctx.conn.execute(select(inspection_plans.c.id).where(inspection_plans.c.code == args.code)).first():
        ctx.reject(errors.PLAN_CODE_TAKEN, f"plan {args.code} exists: revise it instead", plan_code=args.code)
    _insert_plan(ctx, plan_id=args.plan_id, code=args.code, version=1, name=args.name, item_id=args.item_id,
                 stage=args.stage, sample_kind=args.sample_kind, sample_value=args.sample_value,
                 supplier_id=args.supplier_id, operation_seq=args.operation_seq,
                 characteristics=args.characteristics, supersedes_id=None)


@mutation("quality.revise_plan", 1, RevisePlan)
def revise_plan(ctx: MutationContext, args: RevisePlan) -> None:
    """Replace the active version of a plan by a new one; results keep the version they used."""
    previous = require_plan(ctx, args.supersedes_id)
    if not previous["active"]:
        ctx.reject(errors.PLAN_INACTIVE, f"plan {previous['code']} v{previous['version']} is not the active "
                   "version", plan_id=previous["id"])
    _insert_plan(ctx, plan_id=args.plan_id, code=previous["code"], version=previous["version"] + 1, name=args.name,
                 item_id=previous["item_id"], stage=previous["stage"], sample_kind=args.sample_kind,
                 sample_value=args.sample_value, supplier_id=args.supplier_id, operation_seq=args.operation_seq,
                 characteristics=args.characteristics, supersedes_id=previous["id"])
    ctx.update(inspection_plans, {"id": previous["id"]}, {"active": False}, current=previous)


@mutation("quality.update_plan", 1, UpdatePlan)
def update_plan(ctx: MutationContext, args: UpdatePlan) -> None:
    """Rename a plan, or withdraw / reinstate it, field by field."""
    plan = require_plan(ctx, args.plan_id)
    if args.active is not None and args.active.value and not plan["active"]:
        other = ctx.conn.execute(select(inspection_plans.c.id).where(
            and_(inspection_plans.c.code == plan["code"], inspection_plans.c.active.is_(True),
                 inspection_plans.c.id != plan["id"]))).first()
        if other is not None:
            ctx.reject(errors.PLAN_INACTIVE, f"another version of {plan['code']} is active", plan_id=other.id)
    ctx.merge_master(inspection_plans, {"id": args.plan_id}, {"name": args.name, "active": args.active})


def applicable_plan(ctx: MutationContext, *, item_id: str, stage: str, supplier_id: str | None = None,
                    operation_seq: int | None = None) -> Any:
    """The active plan for an item at a stage: a supplier's own plan before the general one."""
    query = select(inspection_plans).where(inspection_plans.c.item_id == item_id, inspection_plans.c.stage == stage,
                                           inspection_plans.c.active.is_(True))
    if stage == "in_process":
        query = query.where(inspection_plans.c.operation_seq == operation_seq)
    plans = list(ctx.conn.execute(query.order_by(inspection_plans.c.code)).mappings())
    own = [plan for plan in plans if plan["supplier_id"] is not None and plan["supplier_id"] == supplier_id]
    general = [plan for plan in plans if plan["supplier_id"] is None]
    return (own or general or [None])[0]
