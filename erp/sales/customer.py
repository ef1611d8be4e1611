"""Customers: master data shared by every site, created at HQ, each with a credit limit.

Every device that reads sales receives every customer (a delivery note names whose goods leave,
a branch opens service tickets for any customer) but creates none; the name, address, credit
limit and active flag merge field by field like other master data (server wins).

The credit limit (yuan, to the fen) bounds the customer's open order value when an order is
confirmed (``credit_limit.py``); NULL means no limit was set and nothing is checked.

Invariants:
- ``code`` is unique and fixed at creation.
- ``credit_limit`` is NULL or a finite amount ≥ 0 with at most two decimals, on both sides.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
from sqlalchemy import Boolean, Column, String, Table, select

from erp.sales import errors
from erp.sales.credit_limit import credit_limit_problem
from sync.context import Edit, MutationContext
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column
from sync.types import DecimalType

customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),  # the company's registered name, rare characters included
    Column("address", String(400)),  # a company address, not personal data
    Column("credit_limit", DecimalType),  # yuan; NULL: no limit
    Column("active", Boolean, nullable=False, default=True),
    version_column(),
    field_versions_column(),
)


class CreateCustomer(msgspec.Struct, frozen=True):
    customer_id: str
    code: str
    name: str
    credit_limit: Decimal | None = None
    address: str | None = None


class UpdateCustomer(msgspec.Struct, frozen=True):
    """Only the fields to change, each with the field version it was based on."""

    customer_id: str
    name: Edit[str] | None = None
    address: Edit[str | None] | None = None
    credit_limit: Edit[Decimal | None] | None = None
    active: Edit[bool] | None = None


def _check_limit(ctx: MutationContext, limit: Decimal | None) -> None:
    problem = credit_limit_problem(limit)
    if problem is not None:
        ctx.reject(errors.INVALID_CREDIT_LIMIT, problem, credit_limit=str(limit))


def _check_name(ctx: MutationContext, name: str) -> None:
    if not name.strip():
        ctx.reject(errors.INVALID_NAME, "a customer needs a name")


@mutation("sales.create_customer", 1, CreateCustomer)
def create_customer(ctx: MutationContext, args: CreateCustomer) -> None:
    """Register a customer with its credit limit (HQ only)."""
    if not args.code.strip() or args.code != args.code.strip():
        ctx.reject(errors.INVALID_NAME, "a customer code is not blank and has no surrounding spaces")
    if ctx.conn.execute(select(customers.c.id).where(customers.c.code == args.code)).first() is not None:
        ctx.reject(errors.CUSTOMER_CODE_TAKEN, f"customer {args.code} already exists",
                   customer_code=args.code)
    _check_name(ctx, args.name)
    _check_limit(ctx, args.credit_limit)
    ctx.insert(customers, {"id": args.customer_id, "code": args.code, "name": args.name, "address": args.address,
                           "credit_limit": args.credit_limit, "active": True})


@mutation("sales.update_customer", 1, UpdateCustomer)
def update_customer(ctx: MutationContext, args: UpdateCustomer) -> None:
    """Edit a customer's name, address, credit limit or active flag, field by field."""
    if ctx.get(customers, id=args.customer_id) is None:
        ctx.reject(errors.UNKNOWN_CUSTOMER, "this customer does not exist", customer_id=args.customer_id)
    if args.name is not None:
        _check_name(ctx, args.name.value)
    if args.credit_limit is not None:
        _check_limit(ctx, args.credit_limit.value)
    ctx.merge_master(customers, {"id": args.customer_id}, {
        "name": args.name, "address": args.address, "credit_limit": args.credit_limit, "active": args.active})


def require_customer(ctx: MutationContext, customer_id: str, *, active: bool = True):
    """The customer row, or a rejection; ``active``: an inactive customer is refused too."""
    customer = ctx.get(customers, id=customer_id)
    if customer is None or (active and not customer["active"]):
        ctx.reject(errors.UNKNOWN_CUSTOMER, "this customer does not exist or is inactive", customer_id=customer_id)
    return customer
