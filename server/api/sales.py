"""HQ API for sales relations: customers and their contacts, leads, opportunities, quotations.

Writes run the module's own mutations (``HqCommands``), the same a device runs; reads call
``erp.sales.queries``. Contacts' and leads' phone numbers and e-mail addresses come back as
null, named in ``hidden_fields``, without ``sales.view_contact_details``; writing them needs it
too (403 ``sync.personal_field_forbidden``). A user bound to a site sees and changes that
site's leads, opportunities and quotations only. Sales orders, deliveries and the figures
built on them are in ``sales_orders.py``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter

from erp.sales import queries
from erp.sales.contact import AddContact, UpdateContact
from erp.sales.customer import CreateCustomer, UpdateCustomer
from erp.sales.lead import ConvertLead, CreateLead, LoseLead, QualifyLead
from erp.sales.opportunity import CreateOpportunity, LoseOpportunity, WinOpportunity
from erp.sales.queries import (
    ContactView, CreditView, CustomerView, LeadView, OpportunityView, QuotationView, SalesOrderView,
)
from erp.sales.quotation import (
    AcceptQuotation, ConvertQuotation, CreateQuotation, ExpireQuotation, RejectQuotation, SendQuotation,
)
from erp.sales.sales_order import NewLine
from server.auth.guard import provide_principal, site_in_scope
from server.auth.service import Principal
from server.db import Database
from server.hq import HqCommands, provide_db, provide_hq
from sync.context import Edit, FieldConflict
from sync.errors import NotFound
from sync.ids import new_id

Limit = Annotated[int, Parameter(ge=1, le=1000)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
DEPENDENCIES = {"db": Provide(provide_db, sync_to_thread=False), "hq": Provide(provide_hq, sync_to_thread=False),
                "principal": Provide(provide_principal, sync_to_thread=False)}


class NewCustomer(msgspec.Struct):
    code: str
    name: str
    credit_limit: Decimal | None = None  # yuan; null: no limit
    address: str | None = None
    id: str | None = None


class CustomerEdit(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields to change, each with the field version it was based on (from GET)."""

    name: Edit[str] | None = None
    address: Edit[str | None] | None = None
    credit_limit: Edit[Decimal | None] | None = None
    active: Edit[bool] | None = None


class NewContact(msgspec.Struct):
    name: str
    title: str | None = None
    phone: str | None = None
    email: str | None = None
    id: str | None = None


class ContactEdit(msgspec.Struct, forbid_unknown_fields=True):
    name: Edit[str] | None = None
    title: Edit[str | None] | None = None
    phone: Edit[str | None] | None = None
    email: Edit[str | None] | None = None
    active: Edit[bool] | None = None


class EditResult(msgspec.Struct):
    """What an edit did: fields changed meanwhile by someone else are listed, not overwritten
    (a personal field's conflict names the field only)."""

    id: str
    conflicts: list[dict]


class NewLead(msgspec.Struct):
    site_id: str
    name: str
    contact_name: str | None = None
    phone: str | None = None
    source: str | None = None
    note: str | None = None
    id: str | None = None


class Loss(msgspec.Struct):
    reason: str = ""


class LeadConversion(msgspec.Struct):
    customer_id: str
    title: str
    expected_value: Decimal = Decimal(0)
    opportunity_id: str | None = None


class NewOpportunity(msgspec.Struct):
    site_id: str
    customer_id: str
    title: str
    expected_value: Decimal = Decimal(0)
    expected_close: date | None = None
    note: str | None = None
    id: str | None = None


class NewDocumentLine(msgspec.Struct):
    item_id: str
    quantity: Decimal
    unit_price: Decimal
    id: str | None = None


class NewQuotation(msgspec.Struct):
    site_id: str
    number: str
    customer_id: str
    valid_until: date  # inclusive, a calendar day in Wuhan
    lines: list[NewDocumentLine]
    opportunity_id: str | None = None
    note: str | None = None
    id: str | None = None


class Acceptance(msgspec.Struct):
    accepted_at: Moment | None = None  # when the customer accepted; default now


class Rejection(msgspec.Struct):
    reason: str = ""


class Expiry(msgspec.Struct):
    as_of: Moment | None = None  # default now


class QuotationConversion(msgspec.Struct):
    number: str  # the new sales order's number
    requested_at: Moment | None = None
    id: str | None = None


def _conflicts(found: list[FieldConflict]) -> list[dict]:
    return [{"field": c.field, "yours": c.device_value, "current": c.server_value, "kept": c.kept} for c in found]


def _now(moment: datetime | None = None) -> datetime:
    return datetime.now(timezone.utc) if moment is None else moment


class CustomerController(Controller):
    path = "/api/v1"
    tags = ["sales"]
    dependencies = DEPENDENCIES

    @get("/customers", opt={"permission": "sales.view"})
    async def list_customers(self, db: Database, active: bool | None = None, limit: Limit = 100,
                             after: str | None = None) -> list[CustomerView]:
        """Customers by code, a page at a time (``after`` = the last code seen)."""
        return await db.read(queries.list_customers, active=active, limit=limit, after=after)

    @get("/customers/{customer_id:str}", opt={"permission": "sales.view"})
    async def get_customer(self, customer_id: str, db: Database) -> CustomerView:
        return await self._customer(customer_id, db)

    @get("/customers/{customer_id:str}/credit", opt={"permission": "sales.view"})
    async def credit(self, customer_id: str, db: Database) -> CreditView:
        """The credit limit, the open order value over every site, and what may still be confirmed."""
        found = await db.read(queries.customer_credit, customer_id)
        if found is None:
            raise NotFound("no such customer", customer_id=customer_id)
        return found

    @post("/customers", opt={"permission": "sales.create_customer"})
    async def create_customer(self, data: NewCustomer, hq: HqCommands, db: Database) -> CustomerView:
        customer_id = data.id or new_id()
        await hq.run("sales.create_customer", CreateCustomer(customer_id, data.code, data.name, data.credit_limit,
                                                             data.address))
        return await self._customer(customer_id, db)

    @patch("/customers/{customer_id:str}", opt={"permission": "sales.update_customer"})
    async def edit_customer(self, customer_id: str, data: CustomerEdit, hq: HqCommands) -> EditResult:
        found = await hq.run("sales.update_customer", UpdateCustomer(customer_id, data.name, data.address,
                                                                     data.credit_limit, data.active))
        return EditResult(customer_id, _conflicts(found))

    @get("/customers/{customer_id:str}/contacts", opt={"permission": "sales.view"})
    async def list_contacts(self, customer_id: str, db: Database, principal: Principal) -> list[ContactView]:
        return await db.read(queries.list_contacts, customer_id, grants=principal.grants)

    @post("/customers/{customer_id:str}/contacts", opt={"permission": "sales.add_contact"})
    async def add_contact(self, customer_id: str, data: NewContact, hq: HqCommands, db: Database,
                          principal: Principal) -> ContactView:
        contact_id = data.id or new_id()
        await hq.run("sales.add_contact", AddContact(contact_id, customer_id, data.name, data.title, data.phone,
                                                     data.email))
        contacts = await db.read(queries.list_contacts, customer_id, grants=principal.grants)
        return next(contact for contact in contacts if contact.id == contact_id)

    @patch("/contacts/{contact_id:str}", opt={"permission": "sales.update_contact"})
    async def edit_contact(self, contact_id: str, data: ContactEdit, hq: HqCommands) -> EditResult:
        found = await hq.run("sales.update_contact", UpdateContact(contact_id, data.name, data.title, data.phone,
                                                                   data.email, data.active))
        return EditResult(contact_id, _conflicts(found))

    @staticmethod
    async def _customer(customer_id: str, db: Database) -> CustomerView:
        customer = await db.read(queries.get_customer, customer_id)
        if customer is None:
            raise NotFound("no such customer", customer_id=customer_id)
        return customer


class PipelineController(Controller):
    """Leads and opportunities of a site."""

    path = "/api/v1"
    tags = ["sales"]
    dependencies = DEPENDENCIES

    @get("/leads", opt={"permission": "sales.view"})
    async def list_leads(self, db: Database, principal: Principal, site_id: str | None = None,
                         status: str | None = None, limit: Limit = 100, after: str | None = None) -> list[LeadView]:
        return await db.read(queries.list_leads, grants=principal.grants, site_id=site_in_scope(principal, site_id),
                             status=status, limit=limit, after=after)

    @post("/leads", opt={"permission": "sales.create_lead"})
    async def create_lead(self, data: NewLead, hq: HqCommands, db: Database, principal: Principal) -> LeadView:
        lead_id = data.id or new_id()
        await hq.run("sales.create_lead", CreateLead(lead_id, data.site_id, data.name, data.contact_name, data.phone,
                                                     data.source, data.note))
        return await self._lead(lead_id, db, principal)

    @post("/leads/{lead_id:str}/qualify", status_code=200, opt={"permission": "sales.qualify_lead"})
    async def qualify_lead(self, lead_id: str, hq: HqCommands, db: Database, principal: Principal) -> LeadView:
        await self._lead(lead_id, db, principal)
        await hq.run("sales.qualify_lead", QualifyLead(lead_id))
        return await self._lead(lead_id, db, principal)

    @post("/leads/{lead_id:str}/lose", status_code=200, opt={"permission": "sales.lose_lead"})
    async def lose_lead(self, lead_id: str, data: Loss, hq: HqCommands, db: Database,
                        principal: Principal) -> LeadView:
        await self._lead(lead_id, db, principal)
        await hq.run("sales.lose_lead", LoseLead(lead_id, data.reason))
        return await self._lead(lead_id, db, principal)

    @post("/leads/{lead_id:str}/convert", status_code=200, opt={"permission": "sales.convert_lead"})
    async def convert_lead(self, lead_id: str, data: LeadConversion, hq: HqCommands, db: Database,
                           principal: Principal) -> OpportunityView:
        """Open an opportunity for an existing customer from the lead."""
        await self._lead(lead_id, db, principal)
        opportunity_id = data.opportunity_id or new_id()
        await hq.run("sales.convert_lead", ConvertLead(lead_id, opportunity_id, data.customer_id, data.title,
                                                       data.expected_value))
        return await self._opportunity(opportunity_id, db, principal)

    @get("/opportunities", opt={"permission": "sales.view"})
    async def list_opportunities(self, db: Database, principal: Principal, site_id: str | None = None,
                                 status: str | None = None, customer_id: str | None = None, limit: Limit = 100,
                                 after: str | None = None) -> list[OpportunityView]:
        return await db.read(queries.list_opportunities, site_id=site_in_scope(principal, site_id), status=status,
                             customer_id=customer_id, limit=limit, after=after)

    @post("/opportunities", opt={"permission": "sales.create_opportunity"})
    async def create_opportunity(self, data: NewOpportunity, hq: HqCommands, db: Database,
                                 principal: Principal) -> OpportunityView:
        opportunity_id = data.id or new_id()
        await hq.run("sales.create_opportunity", CreateOpportunity(
            opportunity_id, data.site_id, data.customer_id, data.title, data.expected_value, data.expected_close,
            data.note))
        return await self._opportunity(opportunity_id, db, principal)

    @post("/opportunities/{opportunity_id:str}/win", status_code=200, opt={"permission": "sales.win_opportunity"})
    async def win(self, opportunity_id: str, hq: HqCommands, db: Database, principal: Principal) -> OpportunityView:
        await self._opportunity(opportunity_id, db, principal)
        await hq.run("sales.win_opportunity", WinOpportunity(opportunity_id))
        return await self._opportunity(opportunity_id, db, principal)

    @post("/opportunities/{opportunity_id:str}/lose", status_code=200, opt={"permission": "sales.lose_opportunity"})
    async def lose(self, opportunity_id: str, data: Loss, hq: HqCommands, db: Database,
                   principal: Principal) -> OpportunityView:
        await self._opportunity(opportunity_id, db, principal)
        await hq.run("sales.lose_opportunity", LoseOpportunity(opportunity_id, data.reason))
        return await self._opportunity(opportunity_id, db, principal)

    @staticmethod
    async def _lead(lead_id: str, db: Database, principal: Principal) -> LeadView:
        found = await db.read(queries.list_leads, grants=principal.grants, site_id=None, status=None, lead_id=lead_id)
        if not found:
            raise NotFound("no such lead", lead_id=lead_id)
        site_in_scope(principal, found[0].site_id)
        return found[0]

    @staticmethod
    async def _opportunity(opportunity_id: str, db: Database, principal: Principal) -> OpportunityView:
        found = await db.read(queries.list_opportunities, site_id=None, status=None, customer_id=None,
                              opportunity_id=opportunity_id)
        if not found:
            raise NotFound("no such opportunity", opportunity_id=opportunity_id)
        site_in_scope(principal, found[0].site_id)
        return found[0]


class QuotationController(Controller):
    path = "/api/v1"
    tags = ["sales"]
    dependencies = DEPENDENCIES

    @get("/quotations", opt={"permission": "sales.view"})
    async def list_quotations(self, db: Database, principal: Principal, site_id: str | None = None,
                              status: str | None = None, customer_id: str | None = None, limit: Limit = 100,
                              after: str | None = None) -> list[QuotationView]:
        return await db.read(queries.list_quotations, site_id=site_in_scope(principal, site_id), status=status,
                             customer_id=customer_id, limit=limit, after=after)

    @get("/quotations/{quotation_id:str}", opt={"permission": "sales.view"})
    async def get_quotation(self, quotation_id: str, db: Database, principal: Principal) -> QuotationView:
        return await self._quotation(quotation_id, db, principal)

    @post("/quotations", opt={"permission": "sales.create_quotation"})
    async def create_quotation(self, data: NewQuotation, hq: HqCommands, db: Database,
                               principal: Principal) -> QuotationView:
        quotation_id = data.id or new_id()
        await hq.run("sales.create_quotation", CreateQuotation(
            quotation_id=quotation_id, site_id=data.site_id, number=data.number, customer_id=data.customer_id,
            valid_until=data.valid_until, opportunity_id=data.opportunity_id, note=data.note,
            lines=[NewLine(line.id or new_id(), line.item_id, line.quantity, line.unit_price) for line in data.lines]))
        return await self._quotation(quotation_id, db, principal)

    @post("/quotations/{quotation_id:str}/send", status_code=200, opt={"permission": "sales.send_quotation"})
    async def send(self, quotation_id: str, hq: HqCommands, db: Database, principal: Principal) -> QuotationView:
        await self._quotation(quotation_id, db, principal)
        await hq.run("sales.send_quotation", SendQuotation(quotation_id))
        return await self._quotation(quotation_id, db, principal)

    @post("/quotations/{quotation_id:str}/accept", status_code=200, opt={"permission": "sales.accept_quotation"})
    async def accept(self, quotation_id: str, data: Acceptance, hq: HqCommands, db: Database,
                     principal: Principal) -> QuotationView:
        await self._quotation(quotation_id, db, principal)
        await hq.run("sales.accept_quotation", AcceptQuotation(quotation_id, _now(data.accepted_at)))
        return await self._quotation(quotation_id, db, principal)

    @post("/quotations/{quotation_id:str}/reject", status_code=200, opt={"permission": "sales.reject_quotation"})
    async def reject(self, quotation_id: str, data: Rejection, hq: HqCommands, db: Database,
                     principal: Principal) -> QuotationView:
        await self._quotation(quotation_id, db, principal)
        await hq.run("sales.reject_quotation", RejectQuotation(quotation_id, data.reason))
        return await self._quotation(quotation_id, db, principal)

    @post("/quotations/{quotation_id:str}/expire", status_code=200, opt={"permission": "sales.expire_quotation"})
    async def expire(self, quotation_id: str, data: Expiry, hq: HqCommands, db: Database,
                     principal: Principal) -> QuotationView:
        await self._quotation(quotation_id, db, principal)
        await hq.run("sales.expire_quotation", ExpireQuotation(quotation_id, _now(data.as_of)))
        return await self._quotation(quotation_id, db, principal)

    @post("/quotations/{quotation_id:str}/convert", opt={"permission": "sales.convert_quotation"})
    async def convert(self, quotation_id: str, data: QuotationConversion, hq: HqCommands, db: Database,
                      principal: Principal) -> SalesOrderView:
        """Make a draft sales order from an accepted quotation, at its prices; 201 with the order."""
        quotation = await self._quotation(quotation_id, db, principal)
        order_id = data.id or new_id()
        await hq.run("sales.convert_quotation", ConvertQuotation(
            quotation_id, order_id, data.number, [new_id() for _ in quotation.lines], data.requested_at))
        return await db.read(queries.get_order, order_id)

    @staticmethod
    async def _quotation(quotation_id: str, db: Database, principal: Principal) -> QuotationView:
        quotation = await db.read(queries.get_quotation, quotation_id)
        if quotation is None:
            raise NotFound("no such quotation", quotation_id=quotation_id)
        site_in_scope(principal, quotation.site_id)
        return quotation


CONTROLLERS = [CustomerController, PipelineController, QuotationController]
