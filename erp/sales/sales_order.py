"""Sales orders: what a customer ordered from a site, the state the order is in, and its credit check.

States (``TRANSITIONS``; ``change_state`` applies one or raises)::

    draft ──confirm──▶ confirmed ──delivery──▶ partially_delivered ──delivery──▶ delivered
      │                  │  │                       │                             │
      │                  │  └──────delivery─────────┼────────────────────────────▶│
      └──cancel──▶ cancelled ◀──cancel──┘           └──close──▶ closed ◀──close───┘

- ``confirm``, ``cancel`` and ``close`` are decisions, made by a person and validated against
  the server's current state: confirming an order HQ cancelled meanwhile is rejected
  (``sales.order_cancelled``); an order with goods delivered is closed, not cancelled
  (``sales.order_has_deliveries``); closing a partially delivered order short-closes it.
- Confirming checks the customer's credit limit against its open order value
  (``credit_limit.py``), counted over every site's orders as the server has them: beyond it the
  confirmation is rejected with ``sales.credit_limit_exceeded`` and the figures. It then
  reserves each line's undelivered quantity at the order's site (``reservation.py``), and an
  order with goods delivered while still a draft moves on to the state its lines say;
  cancelling and closing release what is left.
- ``confirmed`` / ``partially_delivered`` / ``delivered`` follow from the lines' delivered
  quantities (``status_from_lines``), recomputed after every delivery. Deliveries are physical
  facts (delivery.py): one against a draft, cancelled or closed order, or beyond the line, is
  recorded and raises a sales exception; it never changes a decided state.

Invariants:
- Lines are fixed once the order exists; ``delivered_quantity`` and ``returned_quantity`` are
  written back by deliveries and returns only, in the same transaction as their stock moves.
- Prices and quantities are Decimal; quantities > 0, prices ≥ 0 with at most 6 decimals.
- An order made from a quotation names it (``quotation_id``), and the quotation names the order.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Iterable

import msgspec
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, select

from erp.inventory.stock_move import check_quantity, require_item
from erp.org.number_series import assign_number
from erp.org.site import sites
from erp.sales import errors
from erp.sales.credit_limit import check_credit, order_value
from erp.sales.customer import require_customer
from erp.sales.reservation import release, reserve
from erp.sales.states import TransitionForbidden, change_state, decided_state, refuse
from sync.context import MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType, UtcDateTime

UtcMoment = Annotated[datetime, msgspec.Meta(tz=True)]

sales_orders = Table(
    "sales_orders",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, ForeignKey("sites.id"), nullable=False),  # the shipping site
    Column("number", String(40), nullable=False, unique=True),
    # What a branch device showed for an order the server renumbered (erp/org/number_series.py).
    Column("provisional_number", String(48)),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("quotation_id", ID),  # the quotation it was made from, if any
    Column("requested_at", UtcDateTime),  # when the customer wants the goods
    Column("note", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120)),
    Column("decided_at", UtcDateTime),  # the last confirm, cancel or close
    Column("decided_by", String(120)),
    Column("cancel_reason", Text),
    version_column(),
    field_versions_column(),
    Index("ix_sales_orders_site_key", "site_id", "id"),
)

sales_order_lines = Table(
    "sales_order_lines",
    metadata,
    Column("id", ID, primary_key=True),
    Column("order_id", ID, ForeignKey("sales_orders.id"), nullable=False, index=True),
    Column("site_id", ID, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("item_id", ID, ForeignKey("items.id"), nullable=False),
    Column("quantity", DecimalType, nullable=False),
    Column("unit_price", DecimalType, nullable=False),
    Column("delivered_quantity", DecimalType, nullable=False),  # written back by deliveries (下推回写)
    Column("returned_quantity", DecimalType, nullable=False),  # written back by customer returns
    UniqueConstraint("order_id", "line_no"),
    version_column(),
    field_versions_column(),
    Index("ix_sales_order_lines_site_key", "site_id", "id"),
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"partially_delivered", "delivered", "cancelled"}),
    "partially_delivered": frozenset({"delivered", "closed"}),
    "delivered": frozenset({"closed"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}
# States in which the order expects deliveries, holds reservations and counts against credit.
DELIVERING_STATES = frozenset({"confirmed", "partially_delivered", "delivered"})
# A person's decisions, and the states each is taken from (a subset of TRANSITIONS).
DECIDED_FROM: dict[str, frozenset[str]] = {
    "confirmed": frozenset({"draft"}),
    "cancelled": frozenset({"draft", "confirmed"}),
    "closed": frozenset({"partially_delivered", "delivered"}),
}


def order_state(current: str, target: str) -> str:
    """``change_state`` for sales orders."""
    return change_state(TRANSITIONS, "sales order", current, target)


def decided_order_state(current: str, decision: str) -> str:
    """The state a person's decision (``confirmed``, ``cancelled``, ``closed``) leads to."""
    return decided_state(TRANSITIONS, DECIDED_FROM, "sales order", current, decision)


def status_from_lines(lines: Iterable[Any]) -> str:
    """The delivering state the lines' delivered quantities put a confirmed order in.

    Returns do not move an order back: goods a customer sends back are a credit matter, and a
    replacement is a new order (delivery.py)."""
    pairs = [(line["delivered_quantity"], line["quantity"]) for line in lines]
    if pairs and all(delivered >= ordered for delivered, ordered in pairs):
        return "delivered"
    if any(delivered > 0 for delivered, _ in pairs):
        return "partially_delivered"
    return "confirmed"


class NewLine(msgspec.Struct, frozen=True):
    line_id: str
    item_id: str
    quantity: Decimal
    unit_price: Decimal


class CreateSalesOrder(msgspec.Struct, frozen=True):
    order_id: str
    site_id: str
    number: str
    customer_id: str
    lines: list[NewLine]
    requested_at: UtcMoment | None = None
    note: str | None = None


class ConfirmSalesOrder(msgspec.Struct, frozen=True):
    order_id: str


class CancelSalesOrder(msgspec.Struct, frozen=True):
    order_id: str
    reason: str = ""


class CloseSalesOrder(msgspec.Struct, frozen=True):
    order_id: str


def require_order(ctx: MutationContext, order_id: str) -> Any:
    order = ctx.get(sales_orders, id=order_id)
    if order is None:
        ctx.reject(errors.UNKNOWN_ORDER, "this sales order does not exist", order_id=order_id)
    return order


def lines_of(ctx: MutationContext, order_id: str) -> list[Any]:
    return list(ctx.conn.execute(select(sales_order_lines).where(sales_order_lines.c.order_id == order_id)
                                 .order_by(sales_order_lines.c.line_no)).mappings())


def check_price(ctx: MutationContext, price: Decimal) -> None:
    exponent = price.as_tuple().exponent
    if not price.is_finite() or price < 0 or (isinstance(exponent, int) and exponent < -6):
        ctx.reject(errors.INVALID_PRICE, f"{price} is not a price (≥ 0, at most 6 decimals)", unit_price=str(price))


def check_lines(ctx: MutationContext, lines: list[NewLine]) -> None:
    if not lines:
        ctx.reject(errors.NO_LINES, "a sales document needs at least one line")
    if len({line.line_id for line in lines}) != len(lines):
        ctx.reject(errors.DUPLICATE_LINE, "two lines have the same id")
    for line in lines:
        require_item(ctx, line.item_id)
        check_quantity(ctx, line.quantity)
        check_price(ctx, line.unit_price)


def insert_order(ctx: MutationContext, *, order_id: str, site_id: str, number: str, customer_id: str,
                 lines: list[NewLine], quotation_id: str | None = None, requested_at: datetime | None = None,
                 note: str | None = None) -> None:
    """Create a draft order with its lines (directly, or from a quotation)."""
    if ctx.get(sites, id=site_id) is None:
        ctx.reject(errors.SITE_MISMATCH, "this site does not exist", site_id=site_id)
    require_customer(ctx, customer_id)

    def in_use(candidate: str) -> bool:
        return ctx.conn.execute(select(sales_orders.c.id).where(sales_orders.c.number == candidate)).first() is not None

    replaced = None
    if ctx.ref.device_id is not None:
        # A branch took the order on its device, numbered from the device's block of the site's
        # series (or provisionally): the server confirms the number or gives the next one.
        number, replaced = assign_number(ctx, site_id=site_id, document_type="sales_order", proposed=number,
                                         in_use=in_use)
    elif in_use(number):
        ctx.reject(errors.ORDER_NUMBER_TAKEN, f"sales order number {number} is already used", number=number)
    check_lines(ctx, lines)
    ctx.insert(sales_orders, {
        "id": order_id, "site_id": site_id, "number": number, "provisional_number": replaced,
        "customer_id": customer_id, "status": "draft",
        "quotation_id": quotation_id, "requested_at": requested_at, "note": note,
        "created_at": datetime.now(timezone.utc), "created_by": ctx.actor.user,
    })
    for line_no, line in enumerate(lines, start=1):
        ctx.insert(sales_order_lines, {
            "id": line.line_id, "order_id": order_id, "site_id": site_id, "line_no": line_no,
            "item_id": line.item_id, "quantity": line.quantity, "unit_price": line.unit_price,
            "delivered_quantity": Decimal(0), "returned_quantity": Decimal(0),
        })


def check_decision(ctx: MutationContext, order: Any, target: str) -> None:
    """Reject a decision the order's current state (as the server has it) does not allow."""
    try:
        decided_order_state(order["status"], target)
    except TransitionForbidden as refused:
        code = {"cancelled": errors.ORDER_CANCELLED, "closed": errors.ORDER_CLOSED}.get(
            order["status"], errors.TRANSITION_FORBIDDEN)
        refuse(ctx, code, f"sales order {order['number']}", refused, order_id=order["id"])


def decide(ctx: MutationContext, order: Any, target: str, **extra: Any) -> datetime:
    """Apply a person's decision to the order as the server has it now; returns its moment."""
    check_decision(ctx, order, target)
    at = datetime.now(timezone.utc)
    ctx.update(sales_orders, {"id": order["id"]}, {"status": target, "decided_at": at, "decided_by": ctx.actor.user,
                                                   **extra}, current=order)
    return at


def open_order_value(conn, customer_id: str, *, excluding: str | None = None) -> Decimal:
    """What the customer's open orders (confirmed, not closed or cancelled) are worth, every site."""
    line, order = sales_order_lines, sales_orders
    query = (select(line.c.quantity, line.c.returned_quantity, line.c.unit_price)
             .join(order, order.c.id == line.c.order_id)
             .where(order.c.customer_id == customer_id, order.c.status.in_(sorted(DELIVERING_STATES))))
    if excluding is not None:
        query = query.where(order.c.id != excluding)
    # Summed in Python: SQLite keeps Decimals as text, whose SQL arithmetic goes through floats.
    return order_value((r.quantity, r.returned_quantity, r.unit_price) for r in conn.execute(query))


def _money(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


@mutation("sales.create_order", 1, CreateSalesOrder)
def create_order(ctx: MutationContext, args: CreateSalesOrder) -> None:
    """Create a draft sales order with its lines (HQ, or a branch's device, offline too)."""
    insert_order(ctx, order_id=args.order_id, site_id=args.site_id, number=args.number,
                 customer_id=args.customer_id, lines=args.lines, requested_at=args.requested_at, note=args.note)


@mutation("sales.confirm_order", 1, ConfirmSalesOrder)
def confirm_order(ctx: MutationContext, args: ConfirmSalesOrder) -> None:
    """Confirm a draft order within the customer's credit limit, and reserve its stock."""
    order = require_order(ctx, args.order_id)
    check_decision(ctx, order, "confirmed")
    customer = require_customer(ctx, order["customer_id"], active=False)
    lines = lines_of(ctx, order["id"])
    credit = check_credit(customer["credit_limit"], open_order_value(ctx.conn, customer["id"], excluding=order["id"]),
                          order_value((l["quantity"], l["returned_quantity"], l["unit_price"]) for l in lines))
    if not credit.allowed:
        ctx.reject(errors.CREDIT_LIMIT_EXCEEDED,
                   f"sales order {order['number']}: {customer['name']} has {_money(credit.open_value)} in open "
                   f"orders; with this order's {_money(credit.order_value)} that is {_money(credit.exposure)}, "
                   f"{_money(credit.excess)} above the credit limit of {_money(credit.limit)}",
                   order_id=order["id"], customer_id=customer["id"], credit_limit=str(credit.limit),
                   open_value=str(credit.open_value), order_value=str(credit.order_value),
                   excess=str(credit.excess))
    at = decide(ctx, order, "confirmed")
    reserve(ctx, order, lines, at)
    # Goods delivered against the draft (recorded, and flagged) count from now on.
    delivering = status_from_lines(lines)
    if delivering != "confirmed":
        ctx.update(sales_orders, {"id": order["id"]}, {"status": order_state("confirmed", delivering)})


@mutation("sales.cancel_order", 1, CancelSalesOrder)
def cancel_order(ctx: MutationContext, args: CancelSalesOrder) -> None:
    """Cancel an order nothing was delivered against, releasing its reservations."""
    order = require_order(ctx, args.order_id)
    if any(line["delivered_quantity"] > 0 for line in lines_of(ctx, order["id"])):
        ctx.reject(errors.ORDER_HAS_DELIVERIES, f"goods were delivered against {order['number']}: close it instead",
                   order_id=order["id"])
    at = decide(ctx, order, "cancelled", cancel_reason=args.reason or None)
    release(ctx, order["id"], "cancelled", at)


@mutation("sales.close_order", 1, CloseSalesOrder)
def close_order(ctx: MutationContext, args: CloseSalesOrder) -> None:
    """Close a delivered order, or short-close a partially delivered one, releasing what is left."""
    order = require_order(ctx, args.order_id)
    at = decide(ctx, order, "closed")
    release(ctx, order["id"], "closed", at)
