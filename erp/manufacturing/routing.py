"""Routings: how a site makes an item, as a sequence of operations on its work centres.

A routing belongs to one site (scope ``site``), because its operations run on that site's work
centres; the same item may have a routing per plant. An operation has a sequence number (10,
20, 30: room to insert one later), a work centre, a setup time per work order and a run time
per unit, both in hours.

A work order copies its routing's operations when it is created (``work_order.py``), so
changing a routing later (adding operations, retiring it) changes only orders created after.

Invariants: ``code`` is unique within the site; operation sequences are unique within a
routing and > 0; every operation's work centre is of the routing's site; times are finite
Decimals ≥ 0 with at most 9 decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint, select

from erp.inventory.stock_move import require_item
from erp.manufacturing import errors
from erp.manufacturing.checks import check_amount, check_text
from erp.manufacturing.work_centre import work_centres
from erp.org.site import sites
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType

routings = Table(
    "routings",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),  # what it makes
    Column("code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),  # False: no new work order uses it
    UniqueConstraint("site_id", "code"),
    version_column(),
    field_versions_column(),
    Index("ix_routings_site_version", "site_id", "_version"),
)

routing_operations = Table(
    "routing_operations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),
    Column("routing_id", ID, ForeignKey("routings.id"), nullable=False, index=True),
    Column("sequence", Integer, nullable=False),  # 10, 20, 30...
    Column("name", String(200), nullable=False),  # 下料, 车削, 装配...
    Column("work_centre_id", ID, ForeignKey("work_centres.id"), nullable=False),
    Column("setup_hours", DecimalType, nullable=False),  # once per work order
    Column("run_hours_per_unit", DecimalType, nullable=False),
    UniqueConstraint("routing_id", "sequence"),
    version_column(),
    field_versions_column(),
    Index("ix_routing_operations_site_version", "site_id", "_version"),
)


class CreateRouting(msgspec.Struct, frozen=True):
    routing_id: str
    site_id: str
    item_id: str
    code: str
    name: str


class AddRoutingOperation(msgspec.Struct, frozen=True):
    operation_id: str
    routing_id: str
    sequence: int
    name: str
    work_centre_id: str
    setup_hours: Decimal = Decimal(0)
    run_hours_per_unit: Decimal = Decimal(0)


class UpdateRouting(msgspec.Struct, frozen=True):
    routing_id: str
    name: Edit[str] | None = None
    active: Edit[bool] | None = None


def require_routing(ctx: MutationContext, routing_id: str) -> Any:
    routing = ctx.get(routings, id=routing_id)
    if routing is None:
        ctx.reject(errors.UNKNOWN_ROUTING, "this routing does not exist", routing_id=routing_id)
    return routing


@mutation("manufacturing.create_routing", 1, CreateRouting)
def create_routing(ctx: MutationContext, args: CreateRouting) -> None:
    """Register a routing for an item at a site (HQ only); operations are added after."""
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.UNKNOWN_SITE, "this site does not exist", site_id=args.site_id)
    require_item(ctx, args.item_id)
    check_text(ctx, args.code, "code")
    taken = ctx.conn.execute(select(routings.c.id).where(routings.c.site_id == args.site_id,
                                                         routings.c.code == args.code)).first()
    if taken is not None:
        ctx.reject(errors.CODE_TAKEN, f"routing {args.code} already exists at this site", routing_code=args.code)
    ctx.insert(routings, {"id": args.routing_id, "site_id": args.site_id, "item_id": args.item_id,
                          "code": args.code, "name": args.name, "active": True})


@mutation("manufacturing.add_routing_operation", 1, AddRoutingOperation)
def add_routing_operation(ctx: MutationContext, args: AddRoutingOperation) -> None:
    """Add an operation to a routing; orders created from now on include it."""
    routing = require_routing(ctx, args.routing_id)
    if args.sequence <= 0:
        ctx.reject(errors.INVALID_QUANTITY, "an operation's sequence is a whole number above 0", sequence=args.sequence)
    taken = ctx.conn.execute(select(routing_operations.c.id).where(
        routing_operations.c.routing_id == args.routing_id, routing_operations.c.sequence == args.sequence)).first()
    if taken is not None:
        ctx.reject(errors.CODE_TAKEN, f"operation {args.sequence} already exists in this routing",
                   sequence=args.sequence)
    check_text(ctx, args.name, "name")
    centre = ctx.get(work_centres, id=args.work_centre_id)
    if centre is None:
        ctx.reject(errors.UNKNOWN_WORK_CENTRE, "this work centre does not exist", work_centre_id=args.work_centre_id)
    if centre["site_id"] != routing["site_id"]:
        ctx.reject(errors.SITE_MISMATCH, "the work centre is at another site than the routing",
                   work_centre_id=args.work_centre_id, site_id=routing["site_id"])
    check_amount(ctx, args.setup_hours, "setup_hours")
    check_amount(ctx, args.run_hours_per_unit, "run_hours_per_unit")
    ctx.insert(routing_operations, {
        "id": args.operation_id, "site_id": routing["site_id"], "routing_id": args.routing_id,
        "sequence": args.sequence, "name": args.name, "work_centre_id": args.work_centre_id,
        "setup_hours": args.setup_hours, "run_hours_per_unit": args.run_hours_per_unit,
    })


@mutation("manufacturing.update_routing", 1, UpdateRouting)
def update_routing(ctx: MutationContext, args: UpdateRouting) -> None:
    """Rename a routing, or retire it (``active`` false) so no new work order uses it."""
    require_routing(ctx, args.routing_id)
    ctx.merge_master(routings, {"id": args.routing_id}, {"name": args.name, "active": args.active})
