"""Sales: customers and their contacts, leads and opportunities, quotations, sales orders,
stock reservations, deliveries and customer returns.

Depends on ``inventory`` (deliveries and returns are stock moves, availability reads on-hand)
and ``org`` (documents belong to the selling and shipping site). Tables and their sync semantics:

| table               | kind    | scope  | written by                                                  |
|---------------------|---------|--------|-------------------------------------------------------------|
| customers           | master  | shared | HQ                                                          |
| customer_contacts   | master  | shared | HQ; ``phone``, ``email`` need ``sales.view_contact_details`` |
| leads               | master  | site   | HQ or a device of the site; ``phone`` as contacts           |
| opportunities       | master  | site   | HQ or a device of the site                                  |
| quotations, lines   | master  | site   | HQ creates; decisions change it                             |
| sales_orders, lines | master  | site   | HQ or a branch device creates; decisions, deliveries change it |
| stock_reservations  | derived | site   | confirmations, deliveries, cancellations and closes         |
| reserved_stock      | derived | site   | the same, as one total per item and site                    |
| so_deliveries       | ledger  | site   | deliveries and returns, on devices or at HQ                 |
| sales_exceptions    | derived | site   | deliveries and returns that need someone in sales           |

A dock tablet needs ``sales.view`` to hold the open orders of its site, and ``sales.deliver`` /
``sales.return_from_customer`` to record against them; without
``sales.view_contact_details`` it receives contacts' and leads' phone numbers and e-mail
addresses as NULL.
"""

from erp.sales.contact import PERSONAL_FIELDS as CONTACT_PERSONAL_FIELDS
from erp.sales.contact import VIEW_CONTACT_DETAILS, add_contact, customer_contacts, update_contact
from erp.sales.customer import create_customer, customers, update_customer
from erp.sales.delivery import deliver, return_from_customer, so_deliveries
from erp.sales.lead import PERSONAL_FIELDS as LEAD_PERSONAL_FIELDS
from erp.sales.lead import convert_lead, create_lead, leads, lose_lead, qualify_lead
from erp.sales.opportunity import create_opportunity, lose_opportunity, opportunities, win_opportunity
from erp.sales.quotation import (
    accept_quotation, convert_quotation, create_quotation, expire_quotation, quotation_lines, quotations,
    reject_quotation, send_quotation,
)
from erp.sales.reservation import reserved_stock, stock_reservations
from erp.sales.sales_exception import review_exception, sales_exceptions
from erp.sales.sales_order import (
    cancel_order, close_order, confirm_order, create_order, sales_order_lines, sales_orders,
)
from sync.registry import ModuleManifest
from sync.specs import ScopeKind, SyncKind, SyncSpec

MODULE = ModuleManifest(
    name="sales",
    description="Customers, leads, quotations, sales orders, reservations, deliveries and customer returns.",
    depends=("inventory", "org"),
    mutations=(
        create_customer, update_customer, add_contact, update_contact,
        create_lead, qualify_lead, lose_lead, convert_lead,
        create_opportunity, win_opportunity, lose_opportunity,
        create_quotation, send_quotation, accept_quotation, reject_quotation, expire_quotation, convert_quotation,
        create_order, confirm_order, cancel_order, close_order,
        deliver, return_from_customer,
        review_exception,
    ),
    sync_specs=(
        SyncSpec(customers, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False,
                 mergeable_fields=("name", "address", "credit_limit", "active")),
        SyncSpec(customer_contacts, SyncKind.MASTER, ScopeKind.SHARED, device_may_insert=False,
                 mergeable_fields=("name", "title", "phone", "email", "active"),
                 personal_fields=CONTACT_PERSONAL_FIELDS),
        SyncSpec(leads, SyncKind.MASTER, ScopeKind.SITE, "site_id",
                 mergeable_fields=("name", "contact_name", "phone", "source", "note"),
                 personal_fields=LEAD_PERSONAL_FIELDS),
        SyncSpec(opportunities, SyncKind.MASTER, ScopeKind.SITE, "site_id",
                 mergeable_fields=("title", "expected_value", "expected_close", "note")),
        SyncSpec(quotations, SyncKind.MASTER, ScopeKind.SITE, "site_id", device_may_insert=False,
                 mergeable_fields=("note",)),
        SyncSpec(quotation_lines, SyncKind.MASTER, ScopeKind.SITE, "site_id", device_may_insert=False,
                 mergeable_fields=("unit_price",)),
        # A branch takes orders on its device, offline too, numbered from the site's series.
        SyncSpec(sales_orders, SyncKind.MASTER, ScopeKind.SITE, "site_id", mergeable_fields=("requested_at", "note")),
        SyncSpec(sales_order_lines, SyncKind.MASTER, ScopeKind.SITE, "site_id", mergeable_fields=("unit_price",)),
        SyncSpec(stock_reservations, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
        SyncSpec(reserved_stock, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
        SyncSpec(so_deliveries, SyncKind.LEDGER, ScopeKind.SITE, "site_id"),
        SyncSpec(sales_exceptions, SyncKind.DERIVED, ScopeKind.SITE, "site_id"),
    ),
    permissions={
        VIEW_CONTACT_DETAILS: "see and change the phone numbers and e-mail addresses of customer contacts and leads",
    },
)
