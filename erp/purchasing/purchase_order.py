"""Purchase orders: what a site ordered from a supplier, and the state the order is in.

States (``TRANSITIONS``; ``change_state`` applies one or raises)::

    draft ──approve──▶ approved ──receipt──▶ partially_received ──receipt──▶ received
      │                  │   ▲                  │   ▲  return        │ ▲ return      │
      │                  │   └──── return ──────┘   └────────────────┘ │             │
      └──cancel──▶ cancelled ◀──cancel──┘             close ──▶ closed ◀── close ────┘

- ``approve``, ``cancel`` and ``close`` are decisions, made by a person and validated against
  the server's current state: approving an order HQ cancelled meanwhile is rejected
  (``purchasing.po_cancelled``), and an order with goods received is closed, not cancelled.
- ``approved`` / ``partially_received`` / ``received`` follow from the lines' net received
  quantities (``status_from_lines``), recomputed after every receipt and return.
- Receipts are physical facts (goods_receipt.py): one against a draft, cancelled or closed order,
  or beyond the over-receipt tolerance, is recorded and raises a purchasing exception; it never
  changes a decided state.

Invariants:
- Lines are fixed once the order exists; ``received_quantity`` and ``returned_quantity`` are
  written back by receipts and returns only, in the same transaction as their stock moves.
- Prices and quantities are Decimal; quantities > 0, prices ≥ 0, tolerance 0–100 percent.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Iterable

import msgspec
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, select

from erp.inventory.stock_move import check_quantity, require_item
from erp.org.site import sites
from erp.purchasing import errors
from erp.purchasing.supplier import suppliers
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType, UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),  # the receiving site
    Column("number", String(40), nullable=False, unique=True),
    Column("supplier_id", ID, ForeignKey("suppliers.id"), nullable=False),
    Column("status", String(20), nullable=False),
    # Percent of a line's quantity that may arrive beyond it before a receipt is flagged.
    Column("over_receipt_tolerance", DecimalType, nullable=False),
    Column("expected_at", UtcDateTime),
    Column("note", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120)),
    Column("decided_at", UtcDateTime),  # the last approve, cancel or close
    Column("decided_by", String(120)),
    Column("cancel_reason", Text),
    version_column(),
    field_versions_column(),
    Index("ix_purchase_orders_site_key", "site_id", "id"),
)

purchase_order_lines = Table(
    "purchase_order_lines",
    metadata,
    Column("id", ID, primary_key=True),
    Column("po_id", ID, ForeignKey("purchase_orders.id"), nullable=False, index=True),
    Column("site_id", ID, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("quantity", DecimalType, nullable=False),
    Column("unit_price", DecimalType, nullable=False),
    Column("received_quantity", DecimalType, nullable=False),  # written back by receipts (下推回写)
    Column("returned_quantity", DecimalType, nullable=False),  # written back by returns
    Column("invoiced_quantity", DecimalType, nullable=False),  # written back by supplier invoices (finance)
    UniqueConstraint("po_id", "line_no"),
    version_column(),
    field_versions_column(),
    Index("ix_purchase_order_lines_site_key", "site_id", "id"),
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"approved", "cancelled"}),
    "approved": frozenset({"partially_received", "received", "cancelled"}),
    "partially_received": frozenset({"approved", "received", "closed"}),
    "received": frozenset({"approved", "partially_received", "closed"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}
RECEIVING_STATES = frozenset({"approved", "partially_received", "received"})
# A person's decisions, and the states each is taken from (a subset of TRANSITIONS).
DECIDED_FROM: dict[str, frozenset[str]] = {
    "approved": frozenset({"draft"}),
    "cancelled": frozenset({"draft", "approved"}),
    "closed": frozenset({"partially_received", "received"}),
}


class TransitionForbidden(Exception):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a {current} purchase order cannot become {target}")
        self.current, self.target = current, target


def change_state(current: str, target: str) -> str:
    """The new state, or ``TransitionForbidden``; staying in the same state is no transition."""
    if target != current and target not in TRANSITIONS[current]:
        raise TransitionForbidden(current, target)
    return target


def decided_state(current: str, decision: str) -> str:
    """The state a person's decision (``approved``, ``cancelled``, ``closed``) leads to."""
    if current not in DECIDED_FROM[decision]:
        raise TransitionForbidden(current, decision)
    return change_state(current, decision)


def net_received(line: Any) -> Decimal:
    return line["received_quantity"] - line["returned_quantity"]


def status_from_lines(lines: Iterable[Any]) -> str:
    """The receiving state the lines' net received quantities put an order in."""
    nets = [(net_received(line), line["quantity"]) for line in lines]
    if nets and all(net >= ordered for net, ordered in nets):
        return "received"
    if any(net > 0 for net, _ in nets):
        return "partially_received"
    return "approved"


class NewLine(msgspec.Struct, frozen=True):
    line_id: str
    item_id: str
    quantity: Decimal
    unit_price: Decimal


class CreatePurchaseOrder(msgspec.Struct, frozen=True):
    po_id: str
    site_id: str
    number: str
    supplier_id: str
    lines: list[NewLine]
    over_receipt_tolerance: Decimal = Decimal(0)
    expected_at: UtcMoment | None = None
    note: str | None = None


class ApprovePurchaseOrder(msgspec.Struct, frozen=True):
    po_id: str


class CancelPurchaseOrder(msgspec.Struct, frozen=True):
    po_id: str
    reason: str = ""


class ClosePurchaseOrder(msgspec.Struct, frozen=True):
    po_id: str


def require_po(ctx: MutationContext, po_id: str) -> Any:
    po = ctx.get(purchase_orders, id=po_id)
    if po is None:
        ctx.reject(errors.UNKNOWN_PO, "this purchase order does not exist", po_id=po_id)
    return po


def lines_of(ctx: MutationContext, po_id: str) -> list[Any]:
    return list(ctx.conn.execute(select(purchase_order_lines).where(purchase_order_lines.c.po_id == po_id)
                                 .order_by(purchase_order_lines.c.line_no)).mappings())


def decide(ctx: MutationContext, po: Any, target: str, **extra: Any) -> None:
    """Apply a person's decision to the order as the server has it now."""
    try:
        decided_state(po["status"], target)
    except TransitionForbidden as refused:
        code = {"cancelled": errors.PO_CANCELLED, "closed": errors.PO_CLOSED}.get(po["status"],
                                                                                 errors.TRANSITION_FORBIDDEN)
        ctx.reject(code, f"purchase order {po['number']}: {refused}", po_id=po["id"], status=po["status"],
                   wanted=target)
    ctx.update(purchase_orders, {"id": po["id"]}, {"status": target, "decided_at": datetime.now(timezone.utc),
                                                    "decided_by": ctx.actor.user, **extra}, current=po)


@mutation("purchasing.create_po", 1, CreatePurchaseOrder)
def create_po(ctx: MutationContext, args: CreatePurchaseOrder) -> None:
    """Create a draft purchase order with its lines (HQ: buyers)."""
    if ctx.get(sites, id=args.site_id) is None:
        ctx.reject(errors.SITE_MISMATCH, "this site does not exist", site_id=args.site_id)
    supplier = ctx.get(suppliers, id=args.supplier_id)
    if supplier is None or not supplier["active"]:
        ctx.reject(errors.UNKNOWN_SUPPLIER, "this supplier does not exist or is inactive", supplier_id=args.supplier_id)
    if ctx.conn.execute(select(purchase_orders.c.id).where(purchase_orders.c.number == args.number)).first():
        ctx.reject(errors.PO_NUMBER_TAKEN, f"purchase order number {args.number} is already used", number=args.number)
    if not args.lines:
        ctx.reject(errors.PO_HAS_NO_LINES, "a purchase order needs at least one line")
    if not (args.over_receipt_tolerance.is_finite() and 0 <= args.over_receipt_tolerance <= 100):
        ctx.reject(errors.INVALID_TOLERANCE, "the over-receipt tolerance is a percentage from 0 to 100",
                   over_receipt_tolerance=str(args.over_receipt_tolerance))
    if len({line.line_id for line in args.lines}) != len(args.lines):
        ctx.reject(errors.DUPLICATE_LINE, "two lines have the same id")
    for line in args.lines:
        require_item(ctx, line.item_id)
        check_quantity(ctx, line.quantity)
        if not line.unit_price.is_finite() or line.unit_price < 0 or line.unit_price.as_tuple().exponent < -6:
            ctx.reject(errors.INVALID_PRICE, f"{line.unit_price} is not a price (≥ 0, at most 6 decimals)",
                       unit_price=str(line.unit_price))
    ctx.insert(purchase_orders, {
        "id": args.po_id, "site_id": args.site_id, "number": args.number, "supplier_id": args.supplier_id,
        "status": "draft", "over_receipt_tolerance": args.over_receipt_tolerance, "expected_at": args.expected_at,
        "note": args.note, "created_at": datetime.now(timezone.utc), "created_by": ctx.actor.user,
    })
    for number, line in enumerate(args.lines, start=1):
        ctx.insert(purchase_order_lines, {
            "id": line.line_id, "po_id": args.po_id, "site_id": args.site_id, "line_no": number,
            "item_id": line.item_id, "quantity": line.quantity, "unit_price": line.unit_price,
            "received_quantity": Decimal(0), "returned_quantity": Decimal(0), "invoiced_quantity": Decimal(0),
        })


@mutation("purchasing.approve_po", 1, ApprovePurchaseOrder)
def approve_po(ctx: MutationContext, args: ApprovePurchaseOrder) -> None:
    """Approve a draft order; an order cancelled meanwhile stays cancelled (rejected, with why)."""
    decide(ctx, require_po(ctx, args.po_id), "approved")


@mutation("purchasing.cancel_po", 1, CancelPurchaseOrder)
def cancel_po(ctx: MutationContext, args: CancelPurchaseOrder) -> None:
    """Cancel an order nothing was received against; one with receipts is closed instead."""
    po = require_po(ctx, args.po_id)
    if any(line["received_quantity"] > 0 for line in lines_of(ctx, args.po_id)):
        ctx.reject(errors.PO_HAS_RECEIPTS, f"goods were received against {po['number']}: close it instead",
                   po_id=po["id"])
    decide(ctx, po, "cancelled", cancel_reason=args.reason or None)


@mutation("purchasing.close_po", 1, ClosePurchaseOrder)
def close_po(ctx: MutationContext, args: ClosePurchaseOrder) -> None:
    """Close an order once received, or short-close it after a partial delivery."""
    decide(ctx, require_po(ctx, args.po_id), "closed")
