"""Customer contacts: the people we deal with at a customer, whose phone and e-mail are personal data.

Contacts are shared master data created at HQ, like their customers. The name and title are
what every role reading sales needs (a delivery note says whom the goods are for); the phone
number and e-mail address are personal data in the sense of PIPL and need
``sales.view_contact_details`` (``PERSONAL_FIELDS``, declared in the table's SyncSpec): whoever
lacks it reads NULL there (HQ API, pull, bootstrap) and may not write the field, and a device
that may read it keeps it encrypted in its replica (``sync/personal.py``). Leads carry a phone
under the same permission (lead.py).

Invariants:
- A contact belongs to one customer for good; ``customer_id`` never changes.
- Phone numbers and e-mail addresses pass ``phone_problem`` / ``email_problem`` on both sides;
  a refusal never repeats the value it refused.
"""

from __future__ import annotations

import re

import msgspec
from sqlalchemy import Boolean, Column, ForeignKey, String, Table

from erp.sales import errors
from erp.sales.customer import require_customer
from sync.context import Edit, MutationContext
from sync.personal import personal_column
from sync.registry import mutation
from sync.schema import ID, metadata
from sync.specs import field_versions_column, version_column

VIEW_CONTACT_DETAILS = "sales.view_contact_details"

# Column -> the permission needed to see and write it (the table's SyncSpec declares them).
PERSONAL_FIELDS = {"phone": VIEW_CONTACT_DETAILS, "email": VIEW_CONTACT_DETAILS}

customer_contacts = Table(
    "customer_contacts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("title", String(100)),  # 采购经理, 设备科…: what the person does at the customer
    personal_column("customer_contacts", "phone", String(40)),
    personal_column("customer_contacts", "email", String(254)),
    Column("active", Boolean, nullable=False, default=True),
    version_column(),
    field_versions_column(),
)

# The same rule as an employee's phone (erp/hr/personal_data.py), kept here so that sales does
# not depend on HR: an optional leading +, 5 to 20 digits, spaces or hyphens between digits.
_PHONE = re.compile(r"\+?[0-9](?:[ -]?[0-9])*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def phone_problem(text: str) -> str | None:
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE.fullmatch(text) or not 5 <= digits <= 20:
        return "a phone number has 5 to 20 digits, an optional leading +, and spaces or hyphens between digits"
    return None


def email_problem(text: str) -> str | None:
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        return "an e-mail address looks like name@example.com (at most 254 characters)"
    return None


class AddContact(msgspec.Struct, frozen=True):
    contact_id: str
    customer_id: str
    name: str
    title: str | None = None
    phone: str | None = None
    email: str | None = None


class UpdateContact(msgspec.Struct, frozen=True):
    """Only the fields to change, each with the field version it was based on."""

    contact_id: str
    name: Edit[str] | None = None
    title: Edit[str | None] | None = None
    phone: Edit[str | None] | None = None
    email: Edit[str | None] | None = None
    active: Edit[bool] | None = None


def _check(ctx: MutationContext, *, name: str | None = None, phone: str | None = None,
           email: str | None = None) -> None:
    if name is not None and not name.strip():
        ctx.reject(errors.INVALID_NAME, "a contact needs a name")
    if phone is not None and (problem := phone_problem(phone)) is not None:
        ctx.reject(errors.INVALID_PHONE, problem, field="phone")
    if email is not None and (problem := email_problem(email)) is not None:
        ctx.reject(errors.INVALID_EMAIL, problem, field="email")


@mutation("sales.add_contact", 1, AddContact, personal_args=tuple(PERSONAL_FIELDS))
def add_contact(ctx: MutationContext, args: AddContact) -> None:
    """Add a contact person to a customer (HQ only)."""
    require_customer(ctx, args.customer_id, active=False)
    _check(ctx, name=args.name, phone=args.phone, email=args.email)
    ctx.insert(customer_contacts, {"id": args.contact_id, "customer_id": args.customer_id, "name": args.name,
                                   "title": args.title, "phone": args.phone, "email": args.email, "active": True})


@mutation("sales.update_contact", 1, UpdateContact, personal_args=tuple(PERSONAL_FIELDS))
def update_contact(ctx: MutationContext, args: UpdateContact) -> None:
    """Edit a contact's name, title, phone, e-mail or active flag, field by field."""
    if ctx.get(customer_contacts, id=args.contact_id) is None:
        ctx.reject(errors.UNKNOWN_CONTACT, "this contact does not exist", contact_id=args.contact_id)
    _check(ctx, name=args.name.value if args.name else None,
           phone=args.phone.value if args.phone else None, email=args.email.value if args.email else None)
    ctx.merge_master(customer_contacts, {"id": args.contact_id}, {
        "name": args.name, "title": args.title, "phone": args.phone, "email": args.email, "active": args.active})
